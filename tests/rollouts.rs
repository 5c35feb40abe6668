//! Safe rollouts on real sshd hosts: rolling batches with a canary (ordered by the hosts' own
//! clocks), failure thresholds (an unreachable host counts), a retry of the hosts a run left
//! undone, and a production cluster that starts nothing without its name, from the CLI and the
//! API.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use knit_shared::{CellStatus, RunDetail, RunSummary, StartRun};
use serde_json::json;

use crate::harness::{KnitServer, TestHosts, dummy_web_dir, said, start_hosts, start_moto};

const HOSTS: [&str; 6] = ["web1", "web2", "web3", "web4", "web5", "web6"];

/// Six web hosts; each step notes on the host's clock when it began and ended; `check` fails
/// where `{WORK}/broken-<host>` exists.
fn cluster(extra_hosts: &str, rollout: &str) -> String {
    format!(
        r#"[machines.web]
hosts = ["{{HOST:web1}}", "{{HOST:web2}}", "{{HOST:web3}}", "{{HOST:web4}}", "{{HOST:web5}}", "{{HOST:web6}}"{extra_hosts}]
[machines.web.roles.app]
kind = "noter"

[kinds.noter.tasks]
first = ["echo {{{{ host }}}}\" first $(date +%s%N)\" >> {{WORK}}/clock; sleep 0.1; echo {{{{ host }}}}\" first $(date +%s%N)\" >> {{WORK}}/clock"]
check = ["test ! -e {{WORK}}/broken-{{{{ host }}}}"]
last = ["echo {{{{ host }}}}\" last $(date +%s%N) ref=\"{{{{ ref }}}} >> {{WORK}}/clock"]
after = ["echo {{{{ host }}}}\" after $(date +%s%N)\" >> {{WORK}}/clock"]

[scenarios.roll]
steps = ["app.first", "app.check", "app.last"]
finally = ["app.after"]
{rollout}
[scenarios.roll.params.ref]
default = "main"
"#
    )
}

fn ok(output: &Output) -> String {
    let text = said(output);
    assert!(output.status.success(), "{text}");
    text
}

/// The clock file's notes, as (host, step, nanoseconds), and then forgotten.
fn take_notes(hosts: &TestHosts) -> Vec<(String, String, u128)> {
    let path = hosts.work.join("clock");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (
                fields[0].to_owned(),
                fields[1].to_owned(),
                fields[2].parse().expect("nanoseconds"),
            )
        })
        .collect()
}

/// The first and last moment each host did anything, by the hosts' own clocks.
fn spans(notes: &[(String, String, u128)]) -> BTreeMap<String, (u128, u128)> {
    let mut spans: BTreeMap<String, (u128, u128)> = BTreeMap::new();
    for (host, _, at) in notes {
        let span = spans.entry(host.clone()).or_insert((*at, *at));
        span.0 = span.0.min(*at);
        span.1 = span.1.max(*at);
    }
    spans
}

/// The number of the run the CLI's output names: `knit: run 7: ...`.
fn run_id(output: &str) -> i64 {
    output
        .lines()
        .find_map(|line| {
            line.strip_prefix("knit: run ")?
                .split(':')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no run number in {output}"))
}

/// Run `id` as the server has it; none before it exists (another process may not have made it
/// yet).
async fn run_of(server: &KnitServer, id: i64) -> Option<RunSummary> {
    let answer = server.get(&format!("/runs/{id}")).await.expect("GET");
    if answer.status().as_u16() == 404 {
        return None;
    }
    let detail: RunDetail = answer.json().await.expect("run");
    Some(detail.run)
}

/// Waits (up to 60 s) until run `id` is `wanted`; the run then.
async fn until(server: &KnitServer, id: i64, wanted: knit_shared::RunStatus) -> RunSummary {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(run) = run_of(server, id).await
            && run.status == wanted
        {
            return run;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run {id} never {wanted:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Cluster `line`: one host whose `hold` waits until `{WORK}/go` exists, then notes its `ref`
/// in `{WORK}/order`; `head` goes before the machines, `scenarios` after `hold`.
fn holder(head: &str, scenarios: &str) -> String {
    format!(
        "{head}[machines.web]\nhosts = [\"{{HOST:web1}}\"]\n[machines.web.roles.app]\nkind = \"holder\"\n\n\
         [kinds.holder.tasks]\n\
         hold = [\"for i in $(seq 1 600); do [ -e {{WORK}}/go ] && break; sleep 0.1; done; echo {{{{ ref }}}} >> {{WORK}}/order\"]\n\n\
         [scenarios.hold]\nsteps = [\"app.hold\"]\n[scenarios.hold.params.ref]\ndefault = \"x\"\n\n{scenarios}"
    )
}

/// `knit ARGS` in the background: another process sharing the test's data folder.
fn knit_in_background(hosts: &TestHosts, data: &Path, args: &[&str]) -> tokio::process::Child {
    let mut command = tokio::process::Command::from(crate::harness::knit_command());
    command
        .arg("--clusters")
        .arg(&hosts.clusters)
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command.spawn().expect("knit runs")
}

#[tokio::test]
async fn batches_run_in_order_after_a_canary_each_with_its_finally_steps() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &HOSTS).await;
    hosts.write_cluster("fleet", &cluster("", "serial = [1, \"50%\"]"));
    let run = ok(&hosts.knit(data, &["fleet", "roll"]));
    let spans = spans(&take_notes(&hosts));
    assert_eq!(spans.len(), 6, "{run}");
    // A canary, then half of the six, then the rest: every note of a batch, its finally step
    // included, comes before any note of the next.
    let batches: [&[&str]; 3] = [
        &["web-1"],
        &["web-2", "web-3", "web-4"],
        &["web-5", "web-6"],
    ];
    for pair in batches.windows(2) {
        let ended = pair[0]
            .iter()
            .map(|host| spans[*host].1)
            .max()
            .expect("hosts");
        let began = pair[1]
            .iter()
            .map(|host| spans[*host].0)
            .min()
            .expect("hosts");
        assert!(
            ended < began,
            "{:?} overlaps {:?}: {spans:?}",
            pair[0],
            pair[1]
        );
    }
    // Within a batch the hosts run at once: web-2 begins before web-3 ends.
    assert!(spans["web-2"].0 < spans["web-3"].1, "{spans:?}");
}

#[tokio::test]
async fn a_threshold_lets_a_rollout_go_on_or_stops_it_and_unreachable_hosts_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &HOSTS).await;
    let closed = knit::sandbox::free_port().expect("a free port");
    hosts.write_cluster("fleet", &cluster("", ""));
    std::fs::write(hosts.work.join("broken-web-3"), "").expect("write");

    // One failed host of six is within 20%: the others finish, and the run says it failed.
    let within = hosts.knit(data, &["fleet", "roll", "--max-fail", "20"]);
    let text = said(&within);
    assert_eq!(within.status.code(), Some(1), "{text}");
    let notes = take_notes(&hosts);
    let lasts: Vec<&str> = notes
        .iter()
        .filter(|(_, step, _)| step == "last")
        .map(|(host, _, _)| host.as_str())
        .collect();
    assert_eq!(lasts.len(), 5, "{text}");
    assert!(!lasts.contains(&"web-3"), "{text}");
    assert!(text.contains("5 hosts ok, 1 failed"), "{text}");

    // With none allowed, in batches of two: the failure stops the rollout after web-3's batch
    // (its finally steps run); the last batch never starts.
    let stopped = hosts.knit(data, &["fleet", "roll", "--serial", "2", "--max-fail", "0"]);
    let text = said(&stopped);
    assert_eq!(stopped.status.code(), Some(1), "{text}");
    let notes = take_notes(&hosts);
    assert_eq!(
        spans(&notes).into_keys().collect::<Vec<_>>(),
        ["web-1", "web-2", "web-3", "web-4"],
        "{text}"
    );
    assert!(
        notes
            .iter()
            .any(|(host, step, _)| host == "web-4" && step == "after"),
        "{text}"
    );
    assert!(
        text.contains("not started: 1 of 4 hosts failed, more than max_fail_percentage 0 allows"),
        "{text}"
    );

    // A host that cannot be reached counts as failed: one of six is over 10%, within 20%.
    std::fs::remove_file(hosts.work.join("broken-web-3")).expect("remove");
    hosts.write_cluster("fleet", &cluster(&format!(", \"127.0.0.1:{closed}\""), ""));
    let only = "web-1,web-2,web-4,web-5,web-6,web-7";
    let over = hosts.knit(
        data,
        &["fleet", "roll", "--hosts", only, "--max-fail", "10"],
    );
    let text = said(&over);
    assert_eq!(over.status.code(), Some(1), "{text}");
    assert!(
        !take_notes(&hosts).iter().any(|(_, step, _)| step == "last"),
        "{text}"
    );
    let within = hosts.knit(
        data,
        &["fleet", "roll", "--hosts", only, "--max-fail", "20"],
    );
    let text = said(&within);
    assert_eq!(within.status.code(), Some(1), "{text}");
    let lasts = take_notes(&hosts)
        .iter()
        .filter(|(_, step, _)| step == "last")
        .count();
    assert_eq!(lasts, 5, "{text}");
}

#[tokio::test]
async fn a_retry_runs_only_the_hosts_left_undone_with_the_same_parameters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &HOSTS).await;
    hosts.write_cluster("fleet", &cluster("", "max_fail_percentage = 50"));
    for host in ["web-2", "web-5"] {
        std::fs::write(hosts.work.join(format!("broken-{host}")), "").expect("write");
    }
    let first = hosts.knit(data, &["fleet", "roll", "--set", "ref=v7"]);
    let text = said(&first);
    assert_eq!(first.status.code(), Some(1), "{text}");
    let failed_run = run_id(&text);
    take_notes(&hosts);

    // Not this scenario, or nothing to retry: refused, nothing runs.
    let wrong = hosts.knit(
        data,
        &["fleet", "install", "--retry", &failed_run.to_string()],
    );
    assert_eq!(wrong.status.code(), Some(2), "{}", said(&wrong));
    assert!(said(&wrong).contains("a retry runs the same scenario"));

    for host in ["web-2", "web-5"] {
        std::fs::remove_file(hosts.work.join(format!("broken-{host}"))).expect("remove");
    }
    let retry = ok(&hosts.knit(data, &["fleet", "roll", "--retry", &failed_run.to_string()]));
    // With the parameters of the run it retries.
    let clock = std::fs::read_to_string(hosts.work.join("clock")).expect("the hosts' notes");
    assert_eq!(clock.matches("ref=v7").count(), 2, "{clock}");
    assert_eq!(
        spans(&take_notes(&hosts)).into_keys().collect::<Vec<_>>(),
        ["web-2", "web-5"],
        "{retry}"
    );
    let again = hosts.knit(
        data,
        &["fleet", "roll", "--retry", &run_id(&retry).to_string()],
    );
    assert_eq!(again.status.code(), Some(2), "{}", said(&again));
    assert!(
        said(&again).contains("left no host undone"),
        "{}",
        said(&again)
    );

    // The API: the same, and the runs link to each other.
    for host in ["web-2", "web-5"] {
        std::fs::write(hosts.work.join(format!("broken-{host}")), "").expect("write");
    }
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(data, &moto, &dummy_web_dir(dir.path()));
    let failed = hosts.knit(data, &["fleet", "roll", "--set", "ref=v8"]);
    let failed_run = run_id(&said(&failed));
    for host in ["web-2", "web-5"] {
        std::fs::remove_file(hosts.work.join(format!("broken-{host}"))).expect("remove");
    }
    let response = server
        .post(
            "/runs",
            &StartRun {
                cluster: "fleet".to_owned(),
                scenario: "roll".to_owned(),
                retry_of: Some(failed_run),
                ..StartRun::default()
            },
        )
        .await;
    assert_eq!(response.status().as_u16(), 201);
    let started: RunSummary = response.json().await.expect("run");
    assert_eq!(started.retry_of, Some(failed_run));
    assert_eq!(started.params.get("ref").map(String::as_str), Some("v8"));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let detail = loop {
        let detail: RunDetail = server.get_json(&format!("/runs/{}", started.id)).await;
        if detail.run.status != knit_shared::RunStatus::Running {
            break detail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the retry never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let hosts_run: Vec<&str> = detail.plan.hosts.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(hosts_run, ["web-2", "web-5"]);
    assert!(
        detail
            .grid
            .cells
            .iter()
            .flatten()
            .flatten()
            .all(|cell| cell.status == CellStatus::Ok),
        "{detail:?}"
    );
    let original: RunDetail = server.get_json(&format!("/runs/{failed_run}")).await;
    assert_eq!(original.retries, [started.id]);

    // A run that does not exist, or of another cluster: 404 and 400, with the reason.
    for (retry_of, cluster, status) in [(9999, "fleet", 404), (failed_run, "other", 404)] {
        let refused = server
            .post(
                "/runs",
                &StartRun {
                    cluster: cluster.to_owned(),
                    scenario: "roll".to_owned(),
                    retry_of: Some(retry_of),
                    ..StartRun::default()
                },
            )
            .await;
        assert_eq!(refused.status().as_u16(), status);
    }
    server.stop();
}

#[tokio::test]
async fn a_cluster_that_wants_its_name_starts_nothing_without_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster(
        "prod",
        "[cluster.tags]\nStage = \"Production\"\n\n[machines.web]\nhosts = [\"{HOST:web1}\"]\n\
         [machines.web.roles.app]\nkind = \"noter\"\n\n[kinds.noter.tasks]\n\
         note = [\"echo ran >> {WORK}/ran\"]\n\n[scenarios.note]\nsteps = [\"app.note\"]\n",
    );
    let ran = || std::fs::read_to_string(hosts.work.join("ran")).unwrap_or_default();

    // The CLI, without a terminal: --yes with the name, or nothing runs (exit 2).
    for refused in [vec![], vec!["--yes", "prd"]] {
        let output = hosts.knit(data, &[&["prod", "note"][..], &refused].concat());
        assert_eq!(output.status.code(), Some(2), "{}", said(&output));
        assert!(
            said(&output).contains("give --yes prod"),
            "{}",
            said(&output)
        );
    }
    assert_eq!(ran(), "");
    ok(&hosts.knit(data, &["prod", "note", "--yes", "prod"]));
    assert_eq!(ran(), "ran\n");

    // The API: 400 with the reason, and no run; with the name typed, 201.
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(data, &moto, &dummy_web_dir(dir.path()));
    let start = |confirm: Option<&str>| StartRun {
        cluster: "prod".to_owned(),
        scenario: "note".to_owned(),
        confirm: confirm.map(str::to_owned),
        ..StartRun::default()
    };
    for confirm in [None, Some("production")] {
        let refused = server.post("/runs", &start(confirm)).await;
        assert_eq!(refused.status().as_u16(), 400);
        let body = refused.text().await.expect("body");
        assert!(body.contains("wants its name typed"), "{body}");
    }
    let list: knit_shared::RunList = server.get_json("/runs?cluster=prod").await;
    assert_eq!(list.runs.len(), 1, "only the CLI's run: {list:?}");
    let accepted = server.post("/runs", &start(Some("prod"))).await;
    assert_eq!(accepted.status().as_u16(), 201);
    server.stop();
}

#[tokio::test]
async fn a_frozen_cluster_refuses_every_start_until_an_operator_unfreezes_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster(
        "shop",
        "operators = [\"olga\"]\n\n[machines.web]\nhosts = [\"{HOST:web1}\"]\n\
         [machines.web.roles.app]\nkind = \"noter\"\n\n[kinds.noter.tasks]\n\
         note = [\"echo ran >> {WORK}/ran\"]\n\n[scenarios.note]\nsteps = [\"app.note\"]\n",
    );
    let why = "release freeze until Monday";
    ok(&hosts.knit(data, &["shop", "freeze", "--message", why]));
    // The command line is refused too, saying who froze it and why.
    let refused = hosts.knit(data, &["shop", "note"]);
    assert_ne!(refused.status.code(), Some(0));
    assert!(said(&refused).contains(why), "{}", said(&refused));
    assert!(!hosts.work.join("ran").exists());

    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(data, &moto, &crate::harness::built_console());
    server.add_user("olga", "deployer");
    server.add_user("dan", "deployer");
    let start = StartRun {
        cluster: "shop".to_owned(),
        scenario: "note".to_owned(),
        ..StartRun::default()
    };
    let olga = crate::harness::client_with(&server.token_of("olga"));
    let start_as_olga = || olga.post(server.api("/runs")).json(&start).send();
    let (status, message) = crate::harness::error_of(start_as_olga().await.expect("start")).await;
    assert_eq!(status, 409);
    assert!(
        message.contains(why) && message.contains("frozen by"),
        "{message}"
    );
    let list: knit_shared::ClusterList = server.get_json("/clusters").await;
    let frozen = list.clusters[0].frozen.clone().expect("frozen");
    assert_eq!(frozen.message, why);

    // A deployer who is not the cluster's operator may not unfreeze it.
    let dan = crate::harness::client_with(&server.token_of("dan"));
    let answer = dan
        .post(server.api("/clusters/shop/unfreeze"))
        .send()
        .await
        .expect("unfreeze");
    let (status, message) = crate::harness::error_of(answer).await;
    assert_eq!(status, 403);
    assert!(
        message.contains("only admins and its operators (olga)"),
        "{message}"
    );

    // The operator sees the banner and unfreezes it in the console; then runs start.
    let browser = crate::harness::Browser::start().await;
    browser
        .sign_in_as(&server.url, "olga", crate::harness::TEST_PASSWORD)
        .await;
    browser.open(&format!("{}/clusters/shop", server.url)).await;
    browser
        .wait_for_text_containing("#freeze-banner", why)
        .await;
    browser.click("#unfreeze").await;
    browser.wait_for_text_containing("#freeze", "Freeze").await;
    let started = start_as_olga().await.expect("start");
    assert_eq!(started.status().as_u16(), 201);
    let audit = server.audit("cluster.").await;
    let actions: Vec<(&str, &str, &str)> = audit
        .iter()
        .map(|entry| {
            let outcome = entry.outcome.split(':').next().unwrap_or_default();
            let actor = entry
                .actor
                .strip_suffix(" (cli)")
                .map_or(entry.actor.as_str(), |_| "cli");
            (actor, entry.action.as_str(), outcome)
        })
        .collect();
    // The refused unfreeze is recorded too.
    assert_eq!(
        actions,
        [
            ("olga", "cluster.unfreeze", "ok"),
            ("dan", "cluster.unfreeze", "refused"),
            ("cli", "cluster.freeze", why),
        ],
        "{audit:?}"
    );
    browser.close().await;
    server.stop();
}

#[tokio::test]
async fn runs_wait_in_line_in_order_across_processes_and_leave_it_when_cancelled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster("line", &holder("", ""));
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(data, &moto, &dummy_web_dir(dir.path()));
    let start = |name: &str, wait: bool| StartRun {
        cluster: "line".to_owned(),
        scenario: "hold".to_owned(),
        params: [("ref".to_owned(), name.to_owned())].into(),
        wait,
        ..StartRun::default()
    };
    let first: RunSummary = server
        .post("/runs", &start("a", false))
        .await
        .json()
        .await
        .expect("run");
    assert_eq!(first.status, knit_shared::RunStatus::Running);

    // Another process waits in line: the command line.
    let waiting = knit_in_background(&hosts, data, &["line", "hold", "--set", "ref=b", "--wait"]);
    let second = first.id + 1;
    until(&server, second, knit_shared::RunStatus::Queued).await;

    // The server's own start waits behind it; one more waits and is cancelled in line.
    let third: RunSummary = server
        .post("/runs", &start("c", true))
        .await
        .json()
        .await
        .expect("run");
    assert_eq!(third.status, knit_shared::RunStatus::Queued);
    let fourth: RunSummary = server
        .post("/runs", &start("d", true))
        .await
        .json()
        .await
        .expect("run");
    let cancelled = server
        .post(&format!("/runs/{}/cancel", fourth.id), &())
        .await;
    assert_eq!(cancelled.status().as_u16(), 202);
    until(&server, fourth.id, knit_shared::RunStatus::Cancelled).await;

    // A start that does not wait is refused while runs wait in line, naming the first.
    let (status, message) =
        crate::harness::error_of(server.post("/runs", &start("e", false)).await).await;
    assert_eq!(status, 409);
    assert!(
        message.contains(&format!("run {second}")) && message.contains("waiting in line"),
        "{message}"
    );

    std::fs::write(hosts.work.join("go"), "").expect("write");
    let ended = waiting.wait_with_output().await.expect("knit ends");
    assert!(
        ended.status.success(),
        "{}",
        String::from_utf8_lossy(&ended.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ended.stderr).contains("waits in line"),
        "{}",
        String::from_utf8_lossy(&ended.stderr)
    );
    until(&server, third.id, knit_shared::RunStatus::Ok).await;
    let order = std::fs::read_to_string(hosts.work.join("order")).expect("order");
    assert_eq!(order, "a\nb\nc\n");
    server.stop();
}

#[tokio::test]
async fn a_run_that_needs_approval_starts_on_an_approvers_yes_and_never_on_a_no() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    let gated = |name: &str, timeout: &str| {
        format!(
            "approvers = [\"ada\"]\napproval = [\"note\"]\napproval_timeout = \"{timeout}\"\n\n\
             [machines.web]\nhosts = [\"{{HOST:web1}}\"]\n[machines.web.roles.app]\nkind = \"noter\"\n\n\
             [kinds.noter.tasks]\nnote = [\"echo {name} >> {{WORK}}/ran\"]\n\n[scenarios.note]\nsteps = [\"app.note\"]\n"
        )
    };
    hosts.write_cluster("gated", &gated("gated", "1h"));
    hosts.write_cluster("hasty", &gated("hasty", "1s"));
    let ran = || std::fs::read_to_string(hosts.work.join("ran")).unwrap_or_default();
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(data, &moto, &crate::harness::built_console());
    server.add_user("ada", "deployer");
    server.add_user("alice", "deployer");
    let client = |name: &str| crate::harness::client_with(&server.token_of(name));
    let (ada, alice) = (client("ada"), client("alice"));
    let start = |cluster: &str| StartRun {
        cluster: cluster.to_owned(),
        scenario: "note".to_owned(),
        ..StartRun::default()
    };
    let ask = |cluster: &'static str| {
        let alice = &alice;
        let server = &server;
        async move {
            let run: RunSummary = alice
                .post(server.api("/runs"))
                .json(&start(cluster))
                .send()
                .await
                .expect("start")
                .json()
                .await
                .expect("run");
            assert_eq!(run.status, knit_shared::RunStatus::AwaitingApproval);
            run.id
        }
    };
    let answer = |who: &reqwest::Client, id: i64, verb: &str, comment: &str| {
        who.post(server.api(&format!("/runs/{id}/{verb}")))
            .json(&knit_shared::Decision {
                comment: comment.to_owned(),
            })
            .send()
    };

    // Nothing runs until an approver says yes; the one who asked, or anyone else, may not.
    let first = ask("gated").await;
    let (status, message) =
        crate::harness::error_of(answer(&alice, first, "approve", "").await.expect("approve"))
            .await;
    assert_eq!(status, 403);
    assert!(message.contains("only ada may approve"), "{message}");
    assert_eq!(ran(), "");

    // Ada approves in the console; the run starts and ends well.
    let browser = crate::harness::Browser::start().await;
    browser
        .sign_in_as(&server.url, "ada", crate::harness::TEST_PASSWORD)
        .await;
    browser.open(&format!("{}/runs/{first}", server.url)).await;
    browser
        .wait_for_text_containing("#run-approval", "Awaiting approval by ada")
        .await;
    browser.type_into("#approval-comment", "go ahead").await;
    browser.click("#run-approve").await;
    let done = until(&server, first, knit_shared::RunStatus::Ok).await;
    assert_eq!(done.decided_by.as_deref(), Some("ada"));
    assert_eq!(ran(), "gated\n");
    browser.wait_for_text_within("#run-status", "ok", 30).await;
    browser
        .wait_for_text_containing("#run-decision", "Approved by ada: go ahead")
        .await;
    browser.close().await;

    // A no ends it without running; a second answer finds it decided.
    let second = ask("gated").await;
    let rejected = answer(&ada, second, "reject", "not today")
        .await
        .expect("reject");
    assert_eq!(rejected.status().as_u16(), 204);
    let run = until(&server, second, knit_shared::RunStatus::Rejected).await;
    assert_eq!(run.decision.as_deref(), Some("not today"));
    let late = answer(&ada, second, "approve", "").await.expect("approve");
    assert_eq!(late.status().as_u16(), 409);

    // Nobody answers in time: it expires.
    let third = ask("hasty").await;
    until(&server, third, knit_shared::RunStatus::Expired).await;

    // The command line waits for the answer too.
    let waiting = knit_in_background(&hosts, data, &["gated", "note"]);
    let fourth = third + 1;
    until(&server, fourth, knit_shared::RunStatus::AwaitingApproval).await;
    // Answered on the command line of the machine with knit's database, as ada.
    let approved = crate::harness::knit_command()
        .args([
            "runs",
            "approve",
            &fourth.to_string(),
            "--as",
            "ada",
            "--clusters",
        ])
        .arg(&hosts.clusters)
        .arg("--data-dir")
        .arg(data)
        .output()
        .expect("knit runs");
    assert!(
        approved.status.success(),
        "{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    let ended = waiting.wait_with_output().await.expect("knit ends");
    assert!(
        ended.status.success(),
        "{}",
        String::from_utf8_lossy(&ended.stderr)
    );
    assert_eq!(ran(), "gated\ngated\n");
    assert_eq!(
        ran().lines().count(),
        2,
        "the rejected and expired runs never ran"
    );

    // An approver who asks for a run may not approve it herself.
    let own: RunSummary = ada
        .post(server.api("/runs"))
        .json(&start("gated"))
        .send()
        .await
        .expect("start")
        .json()
        .await
        .expect("run");
    let (status, message) =
        crate::harness::error_of(answer(&ada, own.id, "approve", "").await.expect("approve")).await;
    assert_eq!(status, 403);
    assert!(message.contains("ada asked for this run"), "{message}");

    let audit = server.audit("run.").await;
    let decisions: Vec<(&str, &str, bool)> = audit
        .iter()
        .filter(|entry| entry.action == "run.approve" || entry.action == "run.reject")
        .map(|entry| {
            let refused = entry.outcome.starts_with("refused: ");
            (entry.actor.as_str(), entry.action.as_str(), refused)
        })
        .collect();
    // Newest first; the refusals are recorded too.
    assert_eq!(
        decisions,
        [
            ("ada", "run.approve", true),
            ("ada", "run.approve", false),
            ("ada", "run.approve", true),
            ("ada", "run.reject", false),
            ("ada", "run.approve", false),
            ("alice", "run.approve", true),
        ]
    );
    server.stop();
}

#[tokio::test]
async fn a_freeze_holds_runs_already_waiting_in_line_or_for_approval() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster(
        "line",
        &holder(
            "approvers = [\"ada\"]\napproval = [\"gated\"]\n\n",
            "[scenarios.gated]\nsteps = [\"app.hold\"]\n[scenarios.gated.params.ref]\ndefault = \"gated\"\n",
        ),
    );
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(data, &moto, &dummy_web_dir(dir.path()));
    server.add_user("ada", "deployer");
    let ada = crate::harness::client_with(&server.token_of("ada"));
    let start = |scenario: &str, name: &str, wait: bool| StartRun {
        cluster: "line".to_owned(),
        scenario: scenario.to_owned(),
        params: [("ref".to_owned(), name.to_owned())].into(),
        wait,
        ..StartRun::default()
    };
    let run = |response: reqwest::Response| async move {
        let run: RunSummary = response.json().await.expect("run");
        run
    };
    let holding = run(server.post("/runs", &start("hold", "a", false)).await).await;
    let waiting = run(server.post("/runs", &start("hold", "b", true)).await).await;
    assert_eq!(waiting.status, knit_shared::RunStatus::Queued);
    let gated = run(server.post("/runs", &start("gated", "gated", false)).await).await;
    assert_eq!(gated.status, knit_shared::RunStatus::AwaitingApproval);

    let frozen = server
        .post(
            "/clusters/line/freeze",
            &json!({"message": "hold everything"}),
        )
        .await;
    assert_eq!(frozen.status().as_u16(), 204);
    // Approved while frozen: it waits in line like the others.
    let approved = ada
        .post(server.api(&format!("/runs/{}/approve", gated.id)))
        .json(&json!({"comment": ""}))
        .send()
        .await
        .expect("approve");
    assert!(approved.status().is_success(), "{}", approved.status());
    std::fs::write(hosts.work.join("go"), "").expect("write");
    until(&server, holding.id, knit_shared::RunStatus::Ok).await;
    // Several turns of the line pass; neither waiting run starts.
    let watched_until = tokio::time::Instant::now() + std::time::Duration::from_secs(3);
    while tokio::time::Instant::now() < watched_until {
        for id in [waiting.id, gated.id] {
            let status = run_of(&server, id).await.expect("run").status;
            assert_eq!(
                status,
                knit_shared::RunStatus::Queued,
                "run {id} started while frozen"
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let unfrozen = server.post("/clusters/line/unfreeze", &json!({})).await;
    assert_eq!(unfrozen.status().as_u16(), 204);
    until(&server, gated.id, knit_shared::RunStatus::Ok).await;
    let order = std::fs::read_to_string(hosts.work.join("order")).expect("order");
    assert_eq!(order, "a\nb\ngated\n");
    server.stop();
}

#[tokio::test]
async fn a_locked_rollout_refuses_a_deployers_overrides_and_shares_are_range_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1", "web2"]).await;
    hosts.write_cluster(
        "canary",
        "[machines.web]\nhosts = [\"{HOST:web1}\", \"{HOST:web2}\"]\n\
         [machines.web.roles.app]\nkind = \"noter\"\n\n[kinds.noter.tasks]\n\
         note = [\"echo noted\"]\n\n[scenarios.note]\nsteps = [\"app.note\"]\n\
         serial = [1]\nmax_fail_percentage = 0\nlock_rollout = true\n\n\
         [scenarios.free]\nsteps = [\"app.note\"]\n",
    );
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(data, &moto, &dummy_web_dir(dir.path()));
    server.add_user("dan", "deployer");
    let dan = crate::harness::client_with(&server.token_of("dan"));
    let start = |who: &reqwest::Client, body: serde_json::Value| {
        who.post(server.api("/runs")).json(&body).send()
    };
    for body in [
        json!({"cluster": "canary", "scenario": "note", "serial": ["100%"]}),
        json!({"cluster": "canary", "scenario": "note", "max_fail_percentage": 100}),
    ] {
        let (status, message) =
            crate::harness::error_of(start(&dan, body.clone()).await.expect("start")).await;
        assert_eq!(status, 403, "{body}");
        assert!(message.contains("locks its rollout"), "{message}");
    }
    let refusals = server.audit("run.start").await;
    assert!(
        refusals
            .iter()
            .filter(|entry| entry.outcome.contains("the rollout is locked"))
            .count()
            == 2,
        "{refusals:?}"
    );
    // Without overrides the deployer runs it; an admin may override it.
    let plain = start(&dan, json!({"cluster": "canary", "scenario": "note"}))
        .await
        .expect("start");
    assert_eq!(plain.status().as_u16(), 201);
    let plain: RunSummary = plain.json().await.expect("run");
    until(&server, plain.id, knit_shared::RunStatus::Ok).await;
    let admin = server
        .post(
            "/runs",
            &json!({"cluster": "canary", "scenario": "note", "serial": ["100%"]}),
        )
        .await;
    assert_eq!(admin.status().as_u16(), 201);
    let admin: RunSummary = admin.json().await.expect("run");
    until(&server, admin.id, knit_shared::RunStatus::Ok).await;
    // A share is 0 to 100, for a scenario that does not lock its rollout too.
    let (status, message) = crate::harness::error_of(
        start(
            &dan,
            json!({"cluster": "canary", "scenario": "free", "max_fail_percentage": 101}),
        )
        .await
        .expect("start"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(message.contains("from 0 to 100, not 101"), "{message}");
    server.stop();
}

#[tokio::test]
async fn at_most_fifty_runs_wait_on_a_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster("line", &holder("", ""));
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(data, &moto, &dummy_web_dir(dir.path()));
    let start = |wait: bool| json!({"cluster": "line", "scenario": "hold", "wait": wait});
    let holding: RunSummary = server
        .post("/runs", &start(false))
        .await
        .json()
        .await
        .expect("run");
    let mut waiting = Vec::new();
    for _ in 0..knit::runs::MOST_WAITING {
        let run: RunSummary = server
            .post("/runs", &start(true))
            .await
            .json()
            .await
            .expect("run");
        assert_eq!(run.status, knit_shared::RunStatus::Queued);
        waiting.push(run.id);
    }
    let (status, message) =
        crate::harness::error_of(server.post("/runs", &start(true)).await).await;
    assert_eq!(status, 429);
    assert!(
        message.contains("50 runs already wait on cluster line"),
        "{message}"
    );
    for id in &waiting {
        let cancelled = server.post(&format!("/runs/{id}/cancel"), &()).await;
        assert_eq!(cancelled.status().as_u16(), 202);
    }
    for id in &waiting {
        until(&server, *id, knit_shared::RunStatus::Cancelled).await;
    }
    std::fs::write(hosts.work.join("go"), "").expect("write");
    until(&server, holding.id, knit_shared::RunStatus::Ok).await;
    server.stop();
}

#[tokio::test]
async fn a_batch_pause_holds_the_next_batch_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &HOSTS).await;
    hosts.write_cluster(
        "fleet",
        &cluster("", "serial = [\"50%\"]\nbatch_pause = \"2s\""),
    );
    let run = ok(&hosts.knit(data, &["fleet", "roll"]));
    let spans = spans(&take_notes(&hosts));
    assert_eq!(spans.len(), 6, "{run}");
    let first_ended = ["web-1", "web-2", "web-3"]
        .iter()
        .map(|host| spans[*host].1)
        .max()
        .expect("hosts");
    let second_began = ["web-4", "web-5", "web-6"]
        .iter()
        .map(|host| spans[*host].0)
        .min()
        .expect("hosts");
    // By the hosts' clock (this machine's): at least the pause between the two batches.
    assert!(
        second_began >= first_ended + 2_000_000_000,
        "the second batch began {} ms after the first ended",
        second_began.saturating_sub(first_ended) / 1_000_000
    );
}
