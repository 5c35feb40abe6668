//! The run engine against real sshd hosts on loopback: order, parallelism, uploads, the log,
//! failures and `finally`, unreachable and impostor hosts, cancellation (also on hosts that
//! print before every command, and refused for a launch) and the cluster lock.

use std::time::Duration;

use knit::runs::{CancelOutcome, LAUNCH, Mask, RunError, RunHeader, Runs};
use knit::ssh::KnownHosts;
use knit::store::{Actor, Store};
use knit_shared::{
    CellStatus, PlannedHost, PlannedStep, RunDetail, RunEvent, RunEventBody, RunPlan, RunStatus,
    Stream,
};

use crate::harness::{TestHosts, lines_by_host, plan, start_hosts, start_hosts_configured};

/// Runs `scenario` of cluster `name` to its end: the live events and the stored detail.
async fn run_to_end(
    hosts: &TestHosts,
    dir: &std::path::Path,
    name: &str,
    scenario: &str,
) -> (Vec<RunEvent>, RunDetail) {
    let definition = hosts.definition(name);
    let runs = hosts.runs(dir).await;
    let mut started = runs
        .start(
            &definition,
            plan(&definition, scenario),
            &Actor::named("test"),
        )
        .await
        .expect("the run starts");
    let mut live = Vec::new();
    while let Ok(event) = started.live.recv().await {
        live.push(event);
    }
    started.done.await.expect("the run ends");
    let detail = runs
        .detail(started.id)
        .await
        .expect("read")
        .expect("stored");
    (live, detail)
}

fn cell(detail: &RunDetail, step: &str, host: &str) -> knit_shared::Cell {
    let step = detail
        .plan
        .steps
        .iter()
        .position(|s| s.name == step)
        .unwrap_or_else(|| panic!("no step {step}"));
    let host = detail
        .plan
        .hosts
        .iter()
        .position(|h| h.name == host)
        .unwrap_or_else(|| panic!("no host {host}"));
    detail.grid.cells[step][host]
        .clone()
        .unwrap_or_else(|| panic!("no cell for step {step} on host {host}"))
}

/// A cluster whose hosts `hosts` (the inside of a TOML list) greet: scenario `greet` echoes
/// hello on each; `settings` go in its `[cluster]` first.
fn greeting(settings: &str, hosts: &str) -> String {
    format!(
        "{settings}\n[machines.web]\nhosts = [{hosts}]\n[machines.web.roles.app]\nkind = \"hello\"\n\n\
         [kinds.hello.tasks]\ngreet = [\"echo hello\"]\n\n[scenarios.greet]\nsteps = [\"app.greet\"]\n"
    )
}

/// The logins that the sshd of host `name` (of hosts in `dir`) accepted so far.
fn logins(dir: &std::path::Path, name: &str) -> usize {
    std::fs::read_to_string(dir.join(format!("hosts/{name}/sshd.log")))
        .unwrap_or_default()
        .matches("Accepted publickey")
        .count()
}

/// Runs `scenario` of `definition` with `runs` (and the connections they keep) to its end.
async fn run_with(
    runs: &std::sync::Arc<Runs>,
    definition: &knit::clusters::Definition,
    scenario: &str,
) -> RunDetail {
    let started = runs
        .start(
            definition,
            plan(definition, scenario),
            &Actor::named("test"),
        )
        .await
        .expect("starts");
    let id = started.id;
    started.done.await.expect("ends");
    runs.detail(id).await.expect("read").expect("stored")
}

/// What knit itself said in the log of run `id` (of the database in `dir`).
async fn knit_lines(dir: &std::path::Path, id: i64) -> Vec<String> {
    let store = Store::open(&format!("sqlite:{}", dir.join("knit.db").display()))
        .await
        .expect("open database");
    store
        .run_events(id, 0, 1000)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|event| match event.body {
            RunEventBody::Line {
                stream: Stream::Knit,
                text,
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}

/// Waits (up to 15 s) until no SSH connection's client to port `port` runs here; else fails
/// saying `otherwise`.
async fn wait_until_no_connection_to(port: u16, otherwise: &str) {
    let master = format!("ssh .*-M .*-p {port} ");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while std::process::Command::new("pgrep")
        .args(["-f", &master])
        .output()
        .expect("pgrep")
        .status
        .success()
    {
        assert!(tokio::time::Instant::now() < deadline, "{otherwise}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Trusts a stranger's key for the address of `hosts.hosts[index]`, as if it were the host's.
async fn trust_a_stranger(hosts: &TestHosts, dir: &std::path::Path, index: usize) {
    let stranger = knit::ssh::ensure_key_pair(&dir.join(format!("stranger{index}")), "stranger")
        .await
        .expect("key");
    hosts
        .known_hosts
        .trust(
            &knit::ssh::host_pattern("127.0.0.1", hosts.hosts[index].port),
            &stranger.public_key().await.expect("key"),
        )
        .await
        .expect("trust");
}

const DEPLOY: &str = r#"domain = "shop.example"

[machines.web]
hosts = ["{HOST:web1}", "{HOST:web2}"]
[machines.web.roles.proxy]
kind = "test_proxy"
site = "shop"
[machines.web.roles.app]
kind = "test_app"

[machines.db]
hosts = ["{HOST:db1}"]
[machines.db.roles.cache]
kind = "test_cache"

[kinds.test_proxy.settings]
site = "default"
[kinds.test_proxy.tasks]
site_down = ["echo down >> {WORK}/{{ host }}.order"]
conf = [{ upload = "site.conf", to = "{WORK}/{{ host }}/{{ site }}.conf" }]
site_up = ["echo up >> {WORK}/{{ host }}.order"]

[kinds.test_app.tasks]
update = ["sleep 1", "echo updated $KNIT_SANDBOX_HOST"]
migrate = ["echo migrated from {{ host }}", "echo to stderr >&2"]

[kinds.test_cache.tasks]
update = ["sleep 1", "echo cache updated $KNIT_SANDBOX_HOST"]
restart = ["echo restarted {{ role }} on {{ machine }}"]

[scenarios.deploy]
steps = ["proxy.site_down", "proxy.conf", "ALL.update", "app.migrate", "cache.restart"]
finally = ["proxy.site_up"]
"#;

#[tokio::test]
async fn deploy_keeps_step_order_runs_hosts_in_parallel_uploads_and_logs_every_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1", "web2", "db1"]).await;
    hosts.write_cluster("shop", DEPLOY);
    std::fs::write(
        hosts.clusters.join("site.conf"),
        "server_name {{ site }}.{{ domain }};\n# on {{ host }}\n",
    )
    .expect("template");

    let (live, detail) = run_to_end(&hosts, dir.path(), "shop", "deploy").await;
    assert_eq!(detail.run.status, RunStatus::Ok, "{detail:#?}");

    // Steps in order: no step starts anywhere before the previous one ended everywhere.
    let mut step_end = vec![0_i64; detail.plan.steps.len()];
    for event in &live {
        match &event.body {
            RunEventBody::StepStarted { step, .. } if *step > 0 => {
                assert!(
                    event.at_ms >= step_end[step - 1],
                    "step {step} started early"
                );
                assert!(step_end[*step] == 0, "step {step} started after it ended");
            }
            RunEventBody::StepFinished { step, .. } => {
                step_end[*step] = step_end[*step].max(event.at_ms);
            }
            _ => {}
        }
    }

    // ALL.update sleeps a second on each host: all three sleep at once.
    let update: Vec<_> = ["web-1", "web-2", "db-1"]
        .iter()
        .map(|host| cell(&detail, "ALL.update", host))
        .collect();
    let last_start = update
        .iter()
        .filter_map(|c| c.started_ms)
        .max()
        .expect("started");
    let first_end = update
        .iter()
        .filter_map(|c| c.finished_ms)
        .min()
        .expect("ended");
    assert!(
        last_start < first_end,
        "the hosts ran one after another: {update:?}"
    );

    // The upload is rendered with the role's settings, per host.
    for host in ["web-1", "web-2"] {
        let uploaded = std::fs::read_to_string(hosts.work.join(host).join("shop.conf"))
            .expect("uploaded file");
        assert_eq!(
            uploaded,
            format!("server_name shop.shop.example;\n# on {host}\n")
        );
        let order =
            std::fs::read_to_string(hosts.work.join(format!("{host}.order"))).expect("order file");
        assert_eq!(order, "down\nup\n");
    }

    // Every line of every host, stdout and stderr, is in the log, and the store holds exactly
    // what was streamed.
    let lines = lines_by_host(&live);
    assert!(
        lines["web-1"].contains(&"updated web1".to_owned()),
        "{lines:?}"
    );
    assert!(lines["web-2"].contains(&"migrated from web-2".to_owned()));
    assert!(lines["web-2"].contains(&"to stderr".to_owned()));
    assert!(lines["db-1"].contains(&"cache updated db1".to_owned()));
    assert!(lines["db-1"].contains(&"restarted cache on db".to_owned()));
    let stored = hosts
        .runs(dir.path())
        .await
        .store()
        .run_events(detail.run.id, 0, 100_000)
        .await
        .expect("stored events");
    assert_eq!(stored, live);
    assert_eq!(detail.last_seq, live.len() as i64);
}

const FAILING: &str = r#"[machines.web]
hosts = ["{HOST:web1}", "{HOST:web2}"]
[machines.web.roles.app]
kind = "flaky"

[kinds.flaky.tasks]
prepare = ["echo prepared"]
check = ["echo checking", "test $KNIT_SANDBOX_HOST != web2"]
tolerant = [{ run = "exit 3", continue_on_error = true }, "echo went on"]
after = ["echo after"]
cleanup = ["echo cleaned up on {{ host }}"]
slow = [{ run = "echo slow start; sleep 30", timeout = "1s" }]

[scenarios.strict]
steps = ["app.prepare", "app.check", "app.after"]
finally = ["app.cleanup"]

[scenarios.lenient]
steps = ["app.tolerant", { step = "app.check", continue_on_failure = true }, "app.after"]

[scenarios.limited]
steps = ["app.slow"]
"#;

#[tokio::test]
async fn a_failing_step_stops_the_scenario_and_the_finally_steps_still_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1", "web2"]).await;
    hosts.write_cluster("flaky", FAILING);

    let (live, detail) = run_to_end(&hosts, dir.path(), "flaky", "strict").await;
    assert_eq!(detail.run.status, RunStatus::Failed);
    assert_eq!(cell(&detail, "app.check", "web-1").status, CellStatus::Ok);
    let failed = cell(&detail, "app.check", "web-2");
    assert_eq!(
        (failed.status, failed.exit_code),
        (CellStatus::Failed, Some(1))
    );
    for host in ["web-1", "web-2"] {
        assert_eq!(cell(&detail, "app.after", host).status, CellStatus::Skipped);
        assert_eq!(cell(&detail, "app.cleanup", host).status, CellStatus::Ok);
    }
    let lines = lines_by_host(&live);
    assert!(lines["web-2"].contains(&"cleaned up on web-2".to_owned()));
    assert!(!lines["web-1"].contains(&"after".to_owned()));

    // Going on is a choice per step, and errors of a command can be tolerated.
    let (live, detail) = run_to_end(&hosts, dir.path(), "flaky", "lenient").await;
    assert_eq!(
        detail.run.status,
        RunStatus::Failed,
        "a failed step fails the run"
    );
    assert_eq!(
        cell(&detail, "app.tolerant", "web-1").status,
        CellStatus::Ok
    );
    assert_eq!(
        cell(&detail, "app.check", "web-2").status,
        CellStatus::Failed
    );
    assert_eq!(cell(&detail, "app.after", "web-2").status, CellStatus::Ok);
    assert!(lines_by_host(&live)["web-1"].contains(&"went on".to_owned()));

    // A command past its timeout is stopped and fails its host's step.
    let (_, detail) = run_to_end(&hosts, dir.path(), "flaky", "limited").await;
    assert_eq!(detail.run.status, RunStatus::Failed);
    let slow = cell(&detail, "app.slow", "web-1");
    assert_eq!(slow.status, CellStatus::Failed);
    assert_eq!(slow.reason.as_deref(), Some("timed out after 1 s"));
}

/// Step `kill` ends the shell that knit opened on its connection for the next step (a process
/// of the same SSH connection reading its script, not this step's own); `missing` runs a
/// command the host lacks.
const SHELLS: &str = r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "shells"

[kinds.shells.tasks]
kill = ['''
w=
for i in $(seq 100); do
  for p in $(pgrep -f 'IFS= read -r l'); do
    [ "$p" = "$$" ] && continue
    [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$$" ] && continue
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "SSH_CONNECTION=$SSH_CONNECTION" && w=$p
  done
  [ -n "$w" ] && break
  sleep 0.1
done
kill "$w" && echo "ended the shell waiting for the next step"
''']
after = ["echo after"]
missing = ["no-such-command-on-this-host"]
cleanup = ["echo cleaned up"]

[scenarios.killing]
steps = ["app.kill", "app.after"]

[scenarios.missing]
steps = ["app.missing", "app.after"]
finally = ["app.cleanup"]
"#;

#[tokio::test]
async fn a_step_runs_in_a_new_shell_when_the_one_waiting_for_it_was_ended() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1"]).await;
    hosts.write_cluster("shells", SHELLS);

    let (live, detail) = run_to_end(&hosts, dir.path(), "shells", "killing").await;
    let lines = &lines_by_host(&live)["web-1"];
    assert!(
        lines.contains(&"ended the shell waiting for the next step".to_owned()),
        "{lines:?}"
    );
    assert_eq!(detail.run.status, RunStatus::Ok, "{lines:?}");
    assert_eq!(cell(&detail, "app.after", "web-1").status, CellStatus::Ok);
    let after = lines.iter().filter(|line| *line == "after").count();
    assert_eq!(after, 1, "{lines:?}");

    // Exit 127 is the script's own code (a missing command), not a lost connection: the host
    // stays in the run for its `finally` step.
    let (_, detail) = run_to_end(&hosts, dir.path(), "shells", "missing").await;
    let missing = cell(&detail, "app.missing", "web-1");
    assert_eq!(
        (missing.status, missing.exit_code, missing.reason.as_deref()),
        (CellStatus::Failed, Some(127), Some("exit 127"))
    );
    assert_eq!(
        cell(&detail, "app.after", "web-1").status,
        CellStatus::Skipped
    );
    assert_eq!(cell(&detail, "app.cleanup", "web-1").status, CellStatus::Ok);
}

#[tokio::test]
async fn impostor_and_unreachable_hosts_fail_alone_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1", "web2"]).await;
    // web2 presents a key other than the one trusted for its address.
    trust_a_stranger(&hosts, dir.path(), 1).await;
    let closed = knit::sandbox::free_port().expect("a free port");
    hosts.write_cluster(
        "mixed",
        &format!(
            "[machines.web]\nhosts = [\"{{HOST:web1}}\", \"{{HOST:web2}}\", \"{}@127.0.0.1:{closed}\"]\n\
             [machines.web.roles.app]\nkind = \"probe\"\n\n\
             [kinds.probe.tasks]\nfirst = [\"echo hello\"]\nsecond = [\"echo again\"]\n\n\
             [scenarios.check]\nsteps = [{{ step = \"app.first\", continue_on_failure = true }}, \"app.second\"]\n",
            hosts.hosts[1].user
        ),
    );
    // Keep going after the first step so the second shows what happens to a lost host.
    let (_, detail) = run_to_end(&hosts, dir.path(), "mixed", "check").await;
    assert_eq!(detail.run.status, RunStatus::Failed);
    assert_eq!(cell(&detail, "app.first", "web-1").status, CellStatus::Ok);
    assert_eq!(cell(&detail, "app.second", "web-1").status, CellStatus::Ok);

    let impostor = cell(&detail, "app.first", "web-2");
    assert_eq!(impostor.status, CellStatus::Failed);
    let reason = impostor.reason.expect("a reason");
    assert!(reason.contains("Host key verification failed"), "{reason}");
    let unreachable = cell(&detail, "app.first", "web-3");
    assert_eq!(unreachable.status, CellStatus::Failed);
    assert!(
        unreachable
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("refused")),
        "{unreachable:?}"
    );
    let later = cell(&detail, "app.second", "web-3");
    assert_eq!(later.status, CellStatus::Skipped);
    assert!(later.reason.is_some_and(|r| r.contains("unreachable")));
}

#[tokio::test]
async fn a_connection_dropped_mid_step_fails_that_host_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1", "web2"]).await;
    hosts.write_cluster(
        "fragile",
        "[machines.web]\nhosts = [\"{HOST:web1}\", \"{HOST:web2}\"]\n\
         [machines.web.roles.app]\nkind = \"slow\"\n\n\
         [kinds.slow.tasks]\nwork = [\"echo started; if [ {{ host }} = web-2 ]; then sleep 30; fi; echo finished\"]\n\n\
         [scenarios.work]\nsteps = [\"app.work\"]\n",
    );
    let definition = hosts.definition("fragile");
    let runs = hosts.runs(dir.path()).await;
    let mut started = runs
        .start(
            &definition,
            plan(&definition, "work"),
            &Actor::named("test"),
        )
        .await
        .expect("the run starts");
    // Once web-2 is inside its command, its connection goes away.
    let mut dropped = false;
    while let Ok(event) = started.live.recv().await {
        let on_web2 = matches!(&event.body, RunEventBody::Line { host, text, .. }
            if host == "web-2" && text == "started");
        if on_web2 && !dropped {
            hosts.drop_connections("web2");
            dropped = true;
        }
    }
    started.done.await.expect("the run ends");
    assert!(dropped, "web-2 never started its command");
    let detail = runs
        .detail(started.id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(detail.run.status, RunStatus::Failed);
    assert_eq!(cell(&detail, "app.work", "web-1").status, CellStatus::Ok);
    let lost = cell(&detail, "app.work", "web-2");
    assert_eq!(lost.status, CellStatus::Failed);
    let reason = lost.reason.expect("a reason");
    assert!(reason.starts_with("connection lost: "), "{reason}");
}

#[tokio::test]
async fn cancelling_kills_the_remote_commands_and_the_lock_refuses_a_second_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1", "web2"]).await;
    hosts.write_cluster(
        "slow",
        "[machines.web]\nhosts = [\"{HOST:web1}\", \"{HOST:web2}\"]\n\
         [machines.web.roles.app]\nkind = \"sleeper\"\n\n\
         [kinds.sleeper.tasks]\n\
         wait = [\"echo waiting; sleep 317; touch {WORK}/{{ host }}.woke\"]\n\
         after = [\"touch {WORK}/{{ host }}.after\"]\n\
         done = [\"echo finally ran\"]\n\n\
         [scenarios.nap]\nsteps = [\"app.wait\", \"app.after\"]\nfinally = [\"app.done\"]\n",
    );
    let definition = hosts.definition("slow");
    let runs = hosts.runs(dir.path()).await;
    let mut started = runs
        .start(
            &definition,
            plan(&definition, "nap"),
            &Actor::named("alice"),
        )
        .await
        .expect("the run starts");

    // Both hosts are asleep.
    let mut waiting = 0;
    while waiting < 2 {
        let event = started.live.recv().await.expect("events until the end");
        if matches!(&event.body, RunEventBody::Line { text, .. } if text == "waiting") {
            waiting += 1;
        }
    }
    let refused = runs
        .start(&definition, plan(&definition, "nap"), &Actor::named("bob"))
        .await
        .expect_err("the cluster is locked");
    match &refused {
        RunError::Locked(holder) => assert_eq!(holder.actor, "alice"),
        other => panic!("not refused for the lock: {other}"),
    }
    assert!(
        refused
            .to_string()
            .contains(&format!("run {} by alice", started.id))
    );

    assert_eq!(
        runs.cancel(started.id, &Actor::named("alice"))
            .await
            .expect("cancel"),
        CancelOutcome::Cancelling
    );
    let status = started.done.await.expect("the run ends");
    assert_eq!(status, RunStatus::Cancelled);
    let detail = runs
        .detail(started.id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        cell(&detail, "app.wait", "web-1").status,
        CellStatus::Cancelled
    );
    assert_eq!(
        cell(&detail, "app.after", "web-1").status,
        CellStatus::Skipped
    );
    assert_eq!(cell(&detail, "app.done", "web-2").status, CellStatus::Ok);

    // The remote sleepers are gone, and what came after them never ran.
    let mut gone = false;
    for _ in 0..50 {
        let found = std::process::Command::new("pgrep")
            .args(["-f", "sleep 317"])
            .output()
            .expect("pgrep");
        if !found.status.success() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the remote commands still run after the cancel");
    for host in ["web-1", "web-2"] {
        assert!(!hosts.work.join(format!("{host}.woke")).exists());
        assert!(!hosts.work.join(format!("{host}.after")).exists());
    }

    // The lock is free again.
    let next = runs
        .start(&definition, plan(&definition, "nap"), &Actor::named("bob"))
        .await
        .expect("the cluster is free after the run");
    assert_eq!(
        runs.cancel(next.id, &Actor::named("bob"))
            .await
            .expect("cancel"),
        CancelOutcome::Cancelling
    );
    next.done.await.expect("ends");
}

#[tokio::test]
async fn secret_settings_never_reach_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["db1"]).await;
    hosts.write_cluster(
        "vault",
        r#"[machines.db]
hosts = ["{HOST:db1}"]
[machines.db.roles.store]
kind = "store"
db_password = "hunter2-prod"

[kinds.store.tasks]
connect = ["echo connecting with {{ db_password }}", "echo 'a typo: hunter2-prod!' >&2; exit 3"]

[scenarios.connect]
steps = ["store.connect"]
"#,
    );
    let (live, detail) = run_to_end(&hosts, dir.path(), "vault", "connect").await;
    let stored = hosts
        .runs(dir.path())
        .await
        .store()
        .run_events(detail.run.id, 0, 1000)
        .await
        .expect("stored events");
    assert_eq!(stored, live, "what was shown is what was stored");
    let text = serde_json::to_string(&stored).expect("JSON");
    assert!(!text.contains("hunter2-prod"), "{text}");
    let lines = lines_by_host(&stored);
    let db = &lines["db-1"];
    for expected in [
        "[store] $ echo connecting with '****'",
        "connecting with ****",
        "a typo: ****!",
    ] {
        assert!(
            db.iter().any(|l| l == expected),
            "{expected:?} not in {db:?}"
        );
    }
}

/// What a host prints on stderr before every command, as sshd does when the account's home
/// folder is missing.
const BANNER: &str = "Could not chdir to home directory /home/gone: No such file or directory";

#[tokio::test]
async fn cancelling_stops_the_commands_of_a_host_that_prints_before_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let force = format!("ForceCommand echo '{BANNER}' >&2; eval \"$SSH_ORIGINAL_COMMAND\"\n");
    let hosts = start_hosts_configured(dir.path(), &["web1"], &force).await;
    hosts.write_cluster(
        "chatty",
        "[machines.web]\nhosts = [\"{HOST:web1}\"]\n\
         [machines.web.roles.app]\nkind = \"sleeper\"\n\n\
         [kinds.sleeper.tasks]\nwait = [\"echo waiting; sleep 318\"]\n\n\
         [scenarios.nap]\nsteps = [\"app.wait\"]\n",
    );
    let definition = hosts.definition("chatty");
    let runs = hosts.runs(dir.path()).await;
    let mut started = runs
        .start(
            &definition,
            plan(&definition, "nap"),
            &Actor::named("alice"),
        )
        .await
        .expect("the run starts");
    // The banner comes on stderr and "waiting" on stdout: two streams, read in either order.
    // The host's own words are output like any other, not taken for knit's.
    let mut said = Vec::new();
    let heard_both = |said: &Vec<String>| {
        ["waiting", BANNER]
            .iter()
            .all(|w| said.iter().any(|l| l == w))
    };
    let listening = async {
        while !heard_both(&said) {
            let event = started.live.recv().await.expect("events until the end");
            if let RunEventBody::Line { text, .. } = event.body {
                said.push(text);
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), listening)
        .await
        .unwrap_or_else(|_| panic!("the banner and the command's output within 30 s: {said:?}"));
    // knit's own marker is read, not shown.
    assert!(
        !said.iter().any(|line| line.starts_with("knit-")),
        "{said:?}"
    );

    let asked = runs.cancel(started.id, &Actor::named("alice")).await;
    assert_eq!(asked.expect("cancel"), CancelOutcome::Cancelling);
    assert_eq!(started.done.await.expect("ends"), RunStatus::Cancelled);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let found = std::process::Command::new("pgrep")
            .args(["-f", "sleep 318"])
            .output()
            .expect("pgrep");
        if !found.status.success() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the remote command still runs after the cancel"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_launch_is_not_cancelled_midway_and_the_refusal_is_audited() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("knit.db").display());
    let store = Store::open(&url).await.expect("database");
    let runs = Runs::open(
        store.clone(),
        crate::harness::fleet(dir.path()),
        KnownHosts::new(dir.path().join("known_hosts")),
    )
    .await
    .expect("runs");
    let shape = RunPlan {
        steps: vec![PlannedStep {
            name: LAUNCH.to_owned(),
            finally: false,
            hosts: vec!["ec2".to_owned()],
        }],
        hosts: vec![PlannedHost {
            name: "ec2".to_owned(),
            machine: String::new(),
            address: "us-east-1".to_owned(),
        }],
        batches: Vec::new(),
        stamp: String::new(),
    };
    let (finish, finished) = tokio::sync::oneshot::channel::<()>();
    let actor = Actor::named("ada");
    let header = RunHeader {
        cluster: "shop",
        scenario: LAUNCH,
        shape: &shape,
        params: &Default::default(),
        retry_of: None,
        wait: false,
        approval: None,
        receivers: &[],
    };
    let started = runs
        .begin(header, &actor, Mask::default(), |_, _| async move {
            let _ = finished.await;
            RunStatus::Ok
        })
        .await
        .expect("the launch starts");
    let asked = runs.cancel(started.id, &actor).await.expect("asked");
    assert_eq!(asked, CancelOutcome::NotCancellable);
    finish.send(()).expect("still running");
    assert_eq!(started.done.await.expect("ends"), RunStatus::Ok);
    let refusals = store
        .audit_events(&knit_shared::AuditQuery::default(), 10)
        .await
        .expect("audit")
        .into_iter()
        .filter(|event| event.action == "run.cancel")
        .map(|event| event.outcome)
        .collect::<Vec<_>>();
    assert_eq!(refusals, ["refused: a launch cannot be cancelled"]);
}

#[tokio::test]
async fn hosts_are_reached_with_the_fast_key_exchange_unless_the_cluster_wants_post_quantum() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts_configured(dir.path(), &["web1"], "LogLevel DEBUG\n").await;
    let log = dir.path().join("hosts/web1/sshd.log");
    for (name, setting, expected) in [
        ("quick", "", "curve25519-sha256"),
        (
            "careful",
            "ssh_kex = \"post-quantum\"\n",
            "sntrup761x25519-sha512",
        ),
    ] {
        let before = std::fs::read_to_string(&log).unwrap_or_default().len();
        hosts.write_cluster(name, &greeting(setting, "\"{HOST:web1}\""));
        let (_, detail) = run_to_end(&hosts, dir.path(), name, "greet").await;
        assert_eq!(detail.run.status, RunStatus::Ok);
        let said = std::fs::read_to_string(&log).expect("sshd's log");
        let chosen: Vec<&str> = said[before..]
            .lines()
            .filter_map(|line| line.split("kex: algorithm: ").nth(1))
            .collect();
        assert!(!chosen.is_empty(), "sshd logged no key exchange");
        assert!(
            chosen.iter().all(|kex| kex.starts_with(expected)),
            "{name}: {chosen:?}"
        );
    }
}

#[tokio::test]
async fn a_second_run_uses_the_kept_connection_and_a_dead_one_is_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1"]).await;
    hosts.write_cluster("kept", &greeting("", "\"{HOST:web1}\""));
    let definition = hosts.definition("kept");
    let runs = hosts.runs(dir.path()).await;
    let run = || async { run_with(&runs, &definition, "greet").await.run.status };
    assert_eq!(run().await, RunStatus::Ok);
    assert_eq!(run().await, RunStatus::Ok);
    assert_eq!(
        logins(dir.path(), "web1"),
        1,
        "the second run logged in again"
    );

    // The kept connection is cut: once its client side has noticed, the next run connects
    // anew instead of failing.
    hosts.drop_connections("web1");
    wait_until_no_connection_to(hosts.hosts[0].port, "the cut connection's client stays").await;
    assert_eq!(run().await, RunStatus::Ok);
    assert_eq!(logins(dir.path(), "web1"), 2);
}

#[tokio::test]
async fn a_kept_connection_whose_host_went_silent_is_replaced_and_the_run_succeeds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1"]).await;
    hosts.write_cluster("kept", &greeting("", "\"{HOST:web1}\""));
    let definition = hosts.definition("kept");
    let runs = hosts.runs(dir.path()).await;
    assert_eq!(
        run_with(&runs, &definition, "greet").await.run.status,
        RunStatus::Ok
    );

    // The host's side of the kept connection stops answering, as a host that went away would:
    // its local master still answers knit, and SSH's keep-alives take 45 s to give up. knit
    // gives up on it itself.
    let silenced = hosts.silence_connections("web1");
    greets_on_a_new_connection(dir.path(), &runs, &definition).await;
    drop(silenced);
}

#[tokio::test]
async fn a_host_slow_to_start_shells_gets_a_new_connection_and_is_waited_for() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Every session on this host takes 15 s before the command it was asked for, as a host
    // loaded to a standstill (or with a slow login) would: longer than knit's 10 s for a shell.
    let slow = "ForceCommand sleep 15; eval \"$SSH_ORIGINAL_COMMAND\"\n";
    let hosts = start_hosts_configured(dir.path(), &["web1"], slow).await;
    hosts.write_cluster("slow", &greeting("", "\"{HOST:web1}\""));
    let definition = hosts.definition("slow");
    let runs = hosts.runs(dir.path()).await;
    // The first shell takes too long; on the new connection knit waits as long as it takes.
    greets_on_a_new_connection(dir.path(), &runs, &definition).await;
}

/// Runs `greet` on host `web1` (of hosts in `dir`), whose first shell does not start within
/// knit's 10 s: the run must end ok within 150 s, on a second login, and its log say why.
async fn greets_on_a_new_connection(
    dir: &std::path::Path,
    runs: &std::sync::Arc<Runs>,
    definition: &knit::clusters::Definition,
) {
    let run = tokio::time::timeout(
        Duration::from_secs(150),
        run_with(runs, definition, "greet"),
    )
    .await
    .expect("the run ends within 150 s");
    assert_eq!(run.run.status, RunStatus::Ok, "{:?}", run.grid);
    assert_eq!(cell(&run, "app.greet", "web-1").status, CellStatus::Ok);
    assert_eq!(logins(dir, "web1"), 2, "a new connection ran it");
    let said = knit_lines(dir, run.run.id).await;
    assert!(
        said.contains(
            &"the host started no shell within 10 s; running it on a new connection".to_owned()
        ),
        "{said:?}"
    );
}

#[tokio::test]
async fn hosts_behind_one_sshd_that_drops_starts_past_max_startups_all_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    // One sshd answering on 16 loopback addresses (16 hosts to knit), refusing every start
    // beyond 3 at a time, as a bastion or a busy host does.
    let addresses: Vec<String> = (1..=16).map(|n| format!("127.0.0.{n}")).collect();
    let mut extra = String::from("MaxStartups 3:100:3\n");
    for address in &addresses[1..] {
        extra.push_str(&format!("ListenAddress {address}\n"));
    }
    let hosts = start_hosts_configured(dir.path(), &["crowd"], &extra).await;
    let sshd = &hosts.hosts[0];
    for address in &addresses[1..] {
        hosts
            .known_hosts
            .trust(
                &knit::ssh::host_pattern(address, sshd.port),
                &sshd.public_key,
            )
            .await
            .expect("trust");
    }
    let list: Vec<String> = addresses
        .iter()
        .map(|address| format!("\"{}@{address}:{}\"", sshd.user, sshd.port))
        .collect();
    hosts.write_cluster("crowded", &greeting("", &list.join(", ")));
    let (_, detail) = run_to_end(&hosts, dir.path(), "crowded", "greet").await;
    assert_eq!(detail.run.status, RunStatus::Ok, "{:?}", detail.grid);
    for n in 1..=16 {
        let host = format!("web-{n}");
        assert_eq!(cell(&detail, "app.greet", &host).status, CellStatus::Ok);
    }
    // sshd did drop starts: the hosts ran because knit tried those again.
    let log = std::fs::read_to_string(dir.path().join("hosts/crowd/sshd.log")).expect("log");
    assert!(log.contains("past MaxStartups"), "{log}");
}

#[tokio::test]
async fn two_hundred_hosts_run_three_steps_without_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names: Vec<String> = (1..=200).map(|n| format!("h{n}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let hosts = start_hosts(dir.path(), &names).await;
    let list: Vec<String> = names
        .iter()
        .map(|name| format!("\"{{HOST:{name}}}\""))
        .collect();
    hosts.write_cluster(
        "fleet",
        &format!(
            "[machines.web]\nhosts = [{}]\n[machines.web.roles.app]\nkind = \"steps\"\n\n\
             [kinds.steps.tasks]\none = [\"echo one\"]\ntwo = [\"echo two\"]\nthree = [\"echo three\"]\n\n\
             [scenarios.three]\nsteps = [\"app.one\", \"app.two\", \"app.three\"]\n",
            list.join(", ")
        ),
    );
    let (live, detail) = run_to_end(&hosts, dir.path(), "fleet", "three").await;
    let failed: Vec<_> = detail
        .grid
        .cells
        .iter()
        .flatten()
        .flatten()
        .filter(|cell| cell.status != CellStatus::Ok)
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(detail.run.status, RunStatus::Ok);
    // Every host said each step's word once.
    for word in ["one", "two", "three"] {
        let said = live
            .iter()
            .filter(|event| matches!(&event.body, RunEventBody::Line { text, .. } if text == word))
            .count();
        assert_eq!(said, 200, "{word}");
    }
}

#[tokio::test]
async fn with_ssh_idle_zero_each_run_connects_and_closes_its_connection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1"]).await;
    hosts.write_cluster(
        "closed",
        &greeting("ssh_idle = \"0s\"\n", "\"{HOST:web1}\""),
    );
    let definition = hosts.definition("closed");
    let runs = hosts.runs(dir.path()).await;
    for _ in 0..2 {
        let detail = run_with(&runs, &definition, "greet").await;
        assert_eq!(detail.run.status, RunStatus::Ok);
        // The run's connection ends with it.
        wait_until_no_connection_to(hosts.hosts[0].port, "the connection outlived its run").await;
    }
    assert_eq!(logins(dir.path(), "web1"), 2);
}

#[tokio::test]
async fn every_host_is_connected_to_from_the_start_not_at_its_first_step() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1", "db1"]).await;
    let gate = dir.path().join("gate");
    // db1's first step is the second: the first waits on web1 until the test opens the gate.
    hosts.write_cluster(
        "late",
        &format!(
            "[machines.web]\nhosts = [\"{{HOST:web1}}\"]\n[machines.web.roles.proxy]\nkind = \"gate\"\n\
             [machines.db]\nhosts = [\"{{HOST:db1}}\"]\n[machines.db.roles.store]\nkind = \"store\"\n\n\
             [kinds.gate.tasks]\nwait = [\"for _ in $(seq 1 600); do [ -e {gate} ] && break; sleep 0.1; done\"]\n\
             [kinds.store.tasks]\nsave = [\"echo saved\"]\n\n\
             [scenarios.late]\nsteps = [\"proxy.wait\", \"store.save\"]\n",
            gate = gate.display()
        ),
    );
    let definition = hosts.definition("late");
    let runs = hosts.runs(dir.path()).await;
    let started = runs
        .start(
            &definition,
            plan(&definition, "late"),
            &Actor::named("test"),
        )
        .await
        .expect("starts");
    let log = dir.path().join("hosts/db1/sshd.log");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("Accepted publickey")
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "db1 was not connected to while the first step ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    std::fs::write(&gate, "").expect("open the gate");
    assert_eq!(started.done.await.expect("ends"), RunStatus::Ok);
    let log = std::fs::read_to_string(&log).expect("log");
    assert_eq!(log.matches("Accepted publickey").count(), 1, "{log}");
}

#[tokio::test]
async fn hosts_behind_a_bastion_share_one_connection_to_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts_configured(
        dir.path(),
        &["gate", "web1", "web2", "web3"],
        "LogLevel DEBUG\n",
    )
    .await;
    hosts.write_cluster(
        "behind",
        &greeting(
            &format!("bastion = \"{}\"\n", hosts.address("gate")),
            "\"{HOST:web1}\", \"{HOST:web2}\", \"{HOST:web3}\"",
        ),
    );
    let (_, detail) = run_to_end(&hosts, dir.path(), "behind", "greet").await;
    assert_eq!(detail.run.status, RunStatus::Ok, "{:?}", detail.grid);
    let gate = std::fs::read_to_string(dir.path().join("hosts/gate/sshd.log")).expect("log");
    // One login at the bastion, and a channel through it to each host.
    assert_eq!(logins(dir.path(), "gate"), 1, "{gate}");
    for (index, name) in ["web1", "web2", "web3"].iter().enumerate() {
        let port = hosts.hosts[index + 1].port;
        assert!(
            gate.contains(&format!("target 127.0.0.1 port {port}")),
            "no channel to {name} in {gate}"
        );
        assert_eq!(logins(dir.path(), name), 1);
    }
}

#[tokio::test]
async fn a_kept_connection_is_not_used_once_the_hosts_trusted_key_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1"]).await;
    hosts.write_cluster("kept", &greeting("", "\"{HOST:web1}\""));
    let definition = hosts.definition("kept");
    let runs = hosts.runs(dir.path()).await;
    let first = run_with(&runs, &definition, "greet").await;
    assert_eq!(first.run.status, RunStatus::Ok);

    // Another key is trusted for web1 now (a re-keyed host, say): the connection made with the
    // old one is not used, and a new one is refused by the key web1 still shows.
    trust_a_stranger(&hosts, dir.path(), 0).await;
    let detail = run_with(&runs, &definition, "greet").await;
    assert_eq!(detail.run.status, RunStatus::Failed);
    let reason = cell(&detail, "app.greet", "web-1")
        .reason
        .unwrap_or_default();
    assert!(reason.contains("Host key verification failed"), "{reason}");
}
