//! Rolling runs without downtime, on the loopback sandbox's real daemons: under a steady load of
//! 200 requests a second through web-1's nginx for the whole of each run, a rolling deploy of v2
//! over v1 and a rolling rollback answer every request 200, while the answers go from v1 to v2
//! and back; each batch is taken out of both nginx before it switches, and put back after.

use std::time::Duration;

use knit_shared::rollout::BatchSize;
use knit_shared::{Health, RunStatus, StartRun};

use crate::harness::{KnitServer, Load, Tally, start_sandbox};

const CLUSTER: &str = "sandbox.demo";
const RUN: Duration = Duration::from_secs(180);

/// `request` run to its end under the load on `url`: its log and what the load was answered.
async fn under_load(server: &KnitServer, url: &str, request: &StartRun) -> (String, Tally) {
    let load = Load::start(url, 200);
    let (run, log) = server.start_to_end(request, RUN).await;
    let tally = load.stop().await;
    assert_eq!(run.status, RunStatus::Ok, "{log}");
    (log, tally)
}

/// Every request was answered 200, by `releases` (each seen at least once) and no other.
fn all_answered(tally: &Tally, releases: &[&str]) {
    assert!(
        tally.failures.is_empty(),
        "{} of {} failed: {:?}",
        tally.failures.len(),
        tally.sent(),
        tally.failures
    );
    let seen: Vec<&str> = tally.answers.keys().map(String::as_str).collect();
    let expected: Vec<String> = releases
        .iter()
        .map(|release| format!("200 ok {release}"))
        .collect();
    assert_eq!(seen, expected, "{tally:?}");
    assert!(tally.sent() > 100, "{tally:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rolling_deploy_and_a_rolling_rollback_under_load_answer_every_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_sandbox(dir.path()).await;
    let health: Health = server.get_json("/health").await;
    let url = format!("{}health", health.sandbox.expect("a sandbox").site);

    let (install, log) = server.run_to_end(CLUSTER, "install", RUN).await;
    assert_eq!(install.status, RunStatus::Ok, "{log}");
    let (v1, log) = server.run_to_end(CLUSTER, "deploy", RUN).await;
    assert_eq!(v1.status, RunStatus::Ok, "{log}");

    let deploy = StartRun {
        params: [("ref".to_owned(), "v2".to_owned())].into(),
        ..StartRun::new(CLUSTER, "deploy")
    };
    let (log, tally) = under_load(&server, &url, &deploy).await;
    all_answered(&tally, &["v1", "v2"]);
    for said in [
        "out of this proxy: web-1",
        "out of this proxy: web-2",
        "every app host is in this proxy",
    ] {
        assert!(log.contains(said), "{said:?} not in {log}");
    }

    let rollback = StartRun {
        serial: Some(vec![BatchSize::Hosts(1)]),
        ..StartRun::new(CLUSTER, "rollback")
    };
    let (log, tally) = under_load(&server, &url, &rollback).await;
    all_answered(&tally, &["v1", "v2"]);
    assert!(log.contains("out of this proxy: web-2"), "{log}");
    let answer = reqwest::get(&url)
        .await
        .expect("the site")
        .text()
        .await
        .expect("text");
    assert_eq!(answer.trim(), "ok v1");
    server.stop();
}
