//! Scheduled runs on two servers sharing one PostgreSQL: every occurrence runs exactly once,
//! as the account `schedule`; an admin pauses and resumes the schedule.

use std::time::Duration;

use knit::store::Store;
use knit_shared::{ClusterList, RunList, RunStatus};

use crate::harness::{
    Browser, KnitServer, built_console, dummy_web_dir, start_hosts, start_moto, start_postgres,
};

const CLUSTER: &str = r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "clock"

[kinds.clock.tasks]
tick = ["echo tick"]

[scenarios.tick]
steps = ["app.tick"]
schedule = "*/2 * * * * *"
"#;

async fn scheduled_runs(server: &KnitServer) -> usize {
    let list: RunList = server.get_json("/runs?cluster=api&actor=schedule").await;
    list.runs.len()
}

/// Polls `done` every 200 ms until it holds, for at most `seconds`.
async fn until<F: Future<Output = bool>>(seconds: u64, what: &str, mut done: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} within {seconds} s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn two_servers_run_each_occurrence_once_and_a_pause_holds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = start_postgres();
    let data = dir.path().join("data");
    let hosts = start_hosts(&data, &["web1"]).await;
    hosts.write_cluster("api", CLUSTER);
    // The second server trusts the same host keys.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("other data folder");
    for entry in std::fs::read_dir(&data)
        .expect("data")
        .filter_map(Result::ok)
    {
        if entry.path().is_file() {
            std::fs::copy(entry.path(), other.join(entry.file_name())).expect("copy");
        }
    }
    let moto = start_moto(dir.path()).await;
    let web = dummy_web_dir(dir.path());
    let shared = ["--database-url", postgres.url.as_str()];
    let first = hosts.serve_with(&data, &moto, &web, &shared);
    let second = hosts.serve_with(&other, &moto, &web, &shared);

    until(60, "four scheduled runs", || async {
        scheduled_runs(&first).await >= 4
    })
    .await;
    let runs: RunList = first.get_json("/runs?cluster=api&actor=schedule").await;
    assert!(runs.runs.iter().all(|run| run.scenario == "tick"));

    // Paused: occurrences pass without a run (one claimed just before may still start).
    let paused = first
        .client()
        .post(first.api("/clusters/api/schedules/tick/pause"))
        .send()
        .await
        .expect("pause");
    assert_eq!(paused.status(), 204);
    let store = Store::open(&postgres.url).await.expect("the shared store");
    let claimed = store
        .claimed_occurrences("api", "tick")
        .await
        .expect("claims");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(6);
    while tokio::time::Instant::now() < deadline {
        let now = store
            .claimed_occurrences("api", "tick")
            .await
            .expect("claims");
        assert!(
            now.len() <= claimed.len() + 1,
            "claimed while paused: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every claimed occurrence ran once, by one of the two servers, none twice.
    let claimed = store
        .claimed_occurrences("api", "tick")
        .await
        .expect("claims");
    until(30, "a run for every claim", || async {
        scheduled_runs(&second).await == claimed.len()
    })
    .await;
    let mut occurrences: Vec<&String> = claimed.iter().map(|(at, _)| at).collect();
    occurrences.dedup();
    assert_eq!(occurrences.len(), claimed.len());

    let list: ClusterList = second.get_json("/clusters").await;
    let tick = list.clusters[0]
        .scenarios
        .iter()
        .find(|s| s.name == "tick")
        .expect("tick");
    let schedule = tick.schedule.as_ref().expect("a schedule");
    assert_eq!(schedule.cron, "*/2 * * * * *");
    assert_eq!(schedule.paused_by.as_deref(), Some("tester"));
    assert!(schedule.next.is_some());
    assert_eq!(
        schedule.last_run.as_ref().map(|run| run.actor.as_str()),
        Some("schedule")
    );

    // Resumed: the next occurrence runs.
    let resumed = second
        .client()
        .post(second.api("/clusters/api/schedules/tick/resume"))
        .send()
        .await
        .expect("resume");
    assert_eq!(resumed.status(), 204);
    let before = claimed.len();
    until(30, "a run after resuming", || async {
        scheduled_runs(&first).await > before
    })
    .await;
    let audit = first.audit("schedule.").await;
    assert_eq!(audit.len(), 2, "{audit:?}");
}

const YEARLY: &str = r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "clock"

[kinds.clock.tasks]
tick = ["echo tick"]

[scenarios.renew]
steps = ["app.tick"]
schedule = "0 0 1 1 *"
catch_up = true

[scenarios.report]
steps = ["app.tick"]
schedule = "0 0 1 1 *"
"#;

#[tokio::test]
async fn a_missed_occurrence_runs_once_at_start_only_when_it_catches_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let hosts = start_hosts(&data, &["web1"]).await;
    hosts.write_cluster("api", YEARLY);
    let moto = start_moto(dir.path()).await;
    let web = dummy_web_dir(dir.path());
    let server = hosts.serve(&data, &moto, &web);
    let runs_of = |scenario: &str| format!("/runs?cluster=api&actor=schedule&scenario={scenario}");
    until(30, "the missed occurrence of renew", || async {
        let list: RunList = server.get_json(&runs_of("renew")).await;
        list.runs.len() == 1 && list.runs[0].status == RunStatus::Ok
    })
    .await;
    let report: RunList = server.get_json(&runs_of("report")).await;
    assert!(
        report.runs.is_empty(),
        "report does not catch up: {report:?}"
    );
    drop(server);

    // Started again, the occurrence is claimed already: no second run.
    let again = hosts.serve(&data, &moto, &built_console());
    let list: ClusterList = again.get_json("/clusters").await;
    assert!(
        list.clusters[0]
            .scenarios
            .iter()
            .any(|s| s.schedule.is_some())
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while tokio::time::Instant::now() < deadline {
        let renew: RunList = again.get_json(&runs_of("renew")).await;
        assert_eq!(renew.runs.len(), 1, "renew ran again: {renew:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The cluster's page says when it runs and how it last went; an admin pauses it there.
    let browser = Browser::start().await;
    browser.sign_in(&again).await;
    browser.open(&format!("{}/clusters/api", again.url)).await;
    let line = "li[data-scenario=\"renew\"] .schedule";
    let shown = browser
        .wait_for_text_containing(line, "On schedule 0 0 1 1 * (UTC), catching up")
        .await;
    assert!(shown.contains("last: run 1 ok"), "{shown}");
    assert!(shown.contains("next 2027-01-01T00:00:00"), "{shown}");
    browser.click(&format!("{line} .schedule-toggle")).await;
    browser
        .wait_for_text_containing(line, "paused by tester")
        .await;
    browser.close().await;
}
