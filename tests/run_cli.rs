//! `knit [--clusters DIR] <cluster> <scenario>`: live output per host, an exit code that says
//! how it went, `--dry-run`, `hosts`, narrowing, and definition mistakes that stop everything.

use std::path::Path;

use knit::store::Store;
use knit_shared::RunQuery;

use crate::harness::start_hosts;

const CLUSTER: &str = r#"[machines.web]
hosts = ["{HOST:web1}", "{HOST:web2}"]
[machines.web.roles.app]
kind = "greeter"
greeting = "hello"

[kinds.greeter.tasks]
greet = ["echo {{ greeting }} from {{ host }}"]
fail = ["echo failing on {{ host }}; exit 4"]

[scenarios.greet]
steps = ["app.greet"]
[scenarios.broken]
steps = ["app.fail"]
"#;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn recorded_runs(data: &Path) -> usize {
    let store = Store::open(&format!("sqlite:{}", data.join("knit.db").display()))
        .await
        .expect("open database");
    store
        .runs(&RunQuery::default(), 100)
        .await
        .expect("runs")
        .len()
}

#[tokio::test]
async fn the_cli_runs_scenarios_and_exits_non_zero_when_a_step_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The CLI trusts the host keys in <data-dir>/known_hosts: the hosts' folder is the data dir.
    let data = dir.path();
    let hosts = start_hosts(data, &["web1", "web2"]).await;
    hosts.write_cluster("cli", CLUSTER);

    let greet = hosts.knit(data, &["cli", "greet"]);
    let stdout = text(&greet.stdout);
    assert!(greet.status.success(), "{}{}", stdout, text(&greet.stderr));
    assert!(stdout.contains("web-1 | hello from web-1"), "{stdout}");
    assert!(stdout.contains("web-2 | hello from web-2"), "{stdout}");

    let broken = hosts.knit(data, &["cli", "broken"]);
    assert_eq!(broken.status.code(), Some(1));
    let stderr = text(&broken.stderr);
    assert!(stderr.contains("app.fail on web-1: FAILED"), "{stderr}");
    assert!(stderr.contains("run 2 failed"), "{stderr}");

    let narrowed = hosts.knit(data, &["cli", "greet", "--hosts", "web-2"]);
    assert!(narrowed.status.success());
    let stdout = text(&narrowed.stdout);
    assert!(
        stdout.contains("hello from web-2") && !stdout.contains("web-1"),
        "{stdout}"
    );
    assert_eq!(recorded_runs(data).await, 3);
    // The cluster's runs, newest first, as the remote path lists them.
    let runs = text(&hosts.knit(data, &["cli", "runs"]).stdout);
    let first: Vec<&str> = runs
        .lines()
        .map(|line| line.split('\t').nth(2).unwrap_or_default())
        .collect();
    assert_eq!(first, ["ok", "failed", "ok"], "{runs}");

    // Looking runs nothing.
    let dry = hosts.knit(data, &["cli", "greet", "--dry-run"]);
    assert!(dry.status.success());
    assert!(
        text(&dry.stdout).contains("[app] $ echo 'hello' from 'web-1'"),
        "{}",
        text(&dry.stdout)
    );
    let listed = hosts.knit(data, &["cli", "hosts"]);
    let listing = text(&listed.stdout);
    assert!(
        listing.contains(&format!("web-2\t{}", hosts.address("web2"))),
        "{listing}"
    );
    let clusters = hosts.knit(data, &["clusters"]);
    assert!(text(&clusters.stdout).starts_with("cli\t1 machines"));
    let unknown = hosts.knit(data, &["cli", "deploy"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr)
            .contains("cluster cli has no scenario deploy; it has: broken, greet, install"),
        "{}",
        text(&unknown.stderr)
    );
    assert_eq!(
        recorded_runs(data).await,
        3,
        "nothing ran for a look or a mistake"
    );
}

#[tokio::test]
async fn a_definition_with_mistakes_runs_nothing_and_says_where_they_are() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster(
        "typo",
        "[machines.web]\nhosts = [\"{HOST:web1}\"]\n[machines.web.roles.app]\nkind = \"app\"\n\n\
         [scenarios.deploy]\nsteps = [\"app.update\", \"proxy.reload\"]\n",
    );
    let refused = hosts.knit(data, &["typo", "deploy"]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("typo.toml:11:24: step proxy.reload: no machine carries a role proxy"),
        "{stderr}"
    );
    assert!(stderr.contains("no valid cluster typo"), "{stderr}");
    assert!(!data.join("knit.db").exists(), "no run may be recorded");
}

#[tokio::test]
async fn a_dry_run_hides_secret_settings_of_every_type() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster(
        "vault",
        r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.db]
kind = "keeper"
db_password = 80417263
api_tokens = ["tok-first-5521", "tok-second-9034"]

[kinds.keeper.tasks]
migrate = ["connect --password {{ db_password }} --tokens {{ api_tokens | join(',') }}"]

[scenarios.migrate]
steps = ["db.migrate"]
"#,
    );
    let dry = hosts.knit(data, &["vault", "migrate", "--dry-run"]);
    let printed = text(&dry.stdout);
    assert!(dry.status.success(), "{printed}{}", text(&dry.stderr));
    assert!(
        printed.contains("connect --password **** --tokens '****,****'"),
        "{printed}"
    );
    for secret in ["80417263", "tok-first-5521", "tok-second-9034"] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
}

#[tokio::test]
async fn a_second_command_uses_the_connection_the_first_left_and_a_dead_or_silent_one_is_replaced()
{
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1", "web2"]).await;
    hosts.write_cluster("cli", CLUSTER);
    let log = data.join("hosts/web1/sshd.log");
    let logins = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("Accepted publickey")
            .count()
    };
    let greet = || {
        let greet = hosts.knit(data, &["cli", "greet"]);
        assert!(greet.status.success(), "{}", text(&greet.stderr));
    };
    greet();
    greet();
    assert_eq!(logins(), 1, "the second command logged in again");
    // The sockets are the account's alone.
    let mode = std::fs::metadata(data.join("ssh")).expect("socket folder");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o700
    );

    // The connection left running ends (the host rebooted): the next command connects anew.
    let master = format!("ssh .*-M .*-p {} ", hosts.hosts[0].port);
    let killed = std::process::Command::new("pkill")
        .args(["-f", &master])
        .status()
        .expect("pkill");
    assert!(killed.success(), "no connection was left running");
    greet();
    assert_eq!(logins(), 2);

    // The host goes away without closing the connection left running (its sshd processes stop
    // answering): the command runs on a new connection, and the next command does not take up
    // the silent one again.
    let silenced = hosts.silence_connections("web1");
    let moved = hosts.knit(data, &["cli", "greet"]);
    assert!(moved.status.success(), "{}", text(&moved.stderr));
    let said = text(&moved.stdout);
    assert!(
        said.contains("the host started no shell within 10 s; running it on a new connection"),
        "{said}"
    );
    assert_eq!(logins(), 3);
    greet();
    assert_eq!(logins(), 3, "the silent connection was taken up again");
    drop(silenced);
}

#[tokio::test]
async fn a_run_needing_more_open_files_than_allowed_is_refused_before_it_starts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1", "web2"]).await;
    let knit_limited = || {
        std::process::Command::new("prlimit")
            .arg("--nofile=140:140")
            .arg("--")
            .arg(crate::harness::knit_command().get_program())
            .arg("--clusters")
            .arg(&hosts.clusters)
            .arg("--data-dir")
            .arg(data)
            .args(["cli", "greet"])
            .output()
            .expect("prlimit runs (util-linux)")
    };
    hosts.write_cluster("cli", CLUSTER);
    let refused = knit_limited();
    assert!(!refused.status.success());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains(
            "this run may hold 152 files open at once (2 hosts at work together), more than the \
             140 knit may open"
        ),
        "{stderr}"
    );
    assert_eq!(recorded_runs(data).await, 0, "nothing was recorded");

    // One host at a time fits.
    hosts.write_cluster("cli", &format!("parallel = 1\n{CLUSTER}"));
    let narrow = knit_limited();
    assert!(narrow.status.success(), "{}", text(&narrow.stderr));
    assert!(text(&narrow.stdout).contains("web-2 | hello from web-2"));
}

#[tokio::test]
async fn output_without_line_breaks_comes_in_parts_of_at_most_64_kib() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster(
        "long",
        "[machines.web]\nhosts = [\"{HOST:web1}\"]\n[machines.web.roles.app]\nkind = \"printer\"\n\n\
         [kinds.printer.tasks]\nprint = [\"head -c 200000 /dev/zero | tr '\\\\0' a; echo; echo after\"]\n\n\
         [scenarios.print]\nsteps = [\"app.print\"]\n",
    );
    let printed = hosts.knit(data, &["long", "print"]);
    let stdout = text(&printed.stdout);
    assert!(printed.status.success(), "{}", text(&printed.stderr));
    let parts: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.strip_prefix("web-1 | "))
        .filter(|line| !line.is_empty() && line.chars().all(|c| c == 'a'))
        .collect();
    assert_eq!(parts.iter().map(|part| part.len()).sum::<usize>(), 200_000);
    assert!(
        parts.iter().all(|part| part.len() <= 64 * 1024),
        "{:?}",
        parts.iter().map(|part| part.len()).collect::<Vec<_>>()
    );
    assert_eq!(parts.len(), 4, "200,000 bytes in parts of 64 KiB");
    assert!(stdout.contains("web-1 | after"), "the next line is whole");
}

#[tokio::test]
async fn a_script_prints_as_its_headline_and_whole_with_verbose() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster(
        "script",
        "[machines.web]\nhosts = [\"{HOST:web1}\"]\n[machines.web.roles.app]\nkind = \"twice\"\n\n\
         [kinds.twice.tasks]\nsay = [\"set -e\\necho one\\necho two\"]\n\n\
         [scenarios.say]\nsteps = [\"app.say\"]\n",
    );
    let quiet = hosts.knit(data, &["script", "say"]);
    let out = text(&quiet.stdout);
    assert!(quiet.status.success(), "{out}{}", text(&quiet.stderr));
    assert!(out.contains("web-1 | [app] $ echo one"), "{out}");
    assert!(out.contains("web-1 | two"), "{out}");
    assert!(!out.contains("[app] > "), "{out}");
    let verbose = hosts.knit(data, &["script", "say", "-v"]);
    let out = text(&verbose.stdout);
    for line in ["[app] > set -e", "[app] > echo one", "[app] > echo two"] {
        assert!(out.contains(line), "{line} not in {out}");
    }
}
