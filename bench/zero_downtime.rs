//! Rolling runs under a steady load (#26): the loopback sandbox's demo site (two web hosts, each
//! nginx in front of both apps) gets 300 requests a second through web-1's nginx, each on a new
//! connection, while knit runs a rolling deploy of v2 over v1, a rolling rollback, and the
//! maintenance-page deploy (`deploy_offline`) of v2. For each: the requests sent, those that got
//! no answer, the 5xx and 503 answers, and how long 503 was answered (first to last). Prints
//! figures; it never passes or fails on time.
//!
//! Run: `.ci/bench` (or `cargo bench -p knit --bench zero_downtime`).

#[path = "../tests/harness/mod.rs"]
#[expect(
    dead_code,
    unused_imports,
    reason = "the bench uses only part of the test harness"
)]
mod harness;

use std::time::Duration;

use knit_shared::rollout::BatchSize;
use knit_shared::{Health, RunStatus, StartRun};

use harness::{Load, Tally, start_sandbox};

const CLUSTER: &str = "sandbox.demo";
const RUN: Duration = Duration::from_secs(300);
const RATE: u32 = 300;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("a folder");
    let (_moto, server) = start_sandbox(dir.path()).await;
    let health: Health = server.get_json("/health").await;
    let url = format!("{}health", health.sandbox.expect("a sandbox").site);
    for scenario in ["install", "deploy"] {
        let (run, log) = server.run_to_end(CLUSTER, scenario, RUN).await;
        assert_eq!(run.status, RunStatus::Ok, "{scenario}: {log}");
    }
    let with_ref = |scenario: &str, reference: &str| StartRun {
        params: [("ref".to_owned(), reference.to_owned())].into(),
        ..StartRun::new(CLUSTER, scenario)
    };
    let runs = [
        ("rolling deploy v1 -> v2", with_ref("deploy", "v2")),
        (
            "rolling rollback",
            StartRun {
                serial: Some(vec![BatchSize::Hosts(1)]),
                ..StartRun::new(CLUSTER, "rollback")
            },
        ),
        (
            "maintenance deploy v1 -> v2",
            with_ref("deploy_offline", "v2"),
        ),
    ];
    println!("zero downtime: {RATE} requests/s on {url}, each on a new connection");
    for (what, request) in runs {
        let load = Load::start(&url, RATE);
        let began = std::time::Instant::now();
        let (run, log) = server.start_to_end(&request, RUN).await;
        let took = began.elapsed();
        let tally = load.stop().await;
        assert_eq!(run.status, RunStatus::Ok, "{what}: {log}");
        let window = tally
            .seen
            .get(&503)
            .map_or(0.0, |(first, last)| (*last - *first).as_secs_f64());
        println!(
            "zero downtime: {what:<28} {:>6.1} s, {:>6} requests, {:>4} unanswered, {:>5} 5xx, {:>5} 503 over {window:.1} s",
            took.as_secs_f64(),
            tally.sent(),
            tally.failures.len(),
            answered(&tally, |status| status >= 500),
            answered(&tally, |status| status == 503),
        );
    }
    server.stop();
}

/// How many answers of `tally` had a status that is `wanted`.
fn answered(tally: &Tally, wanted: impl Fn(u16) -> bool) -> usize {
    tally
        .answers
        .iter()
        .filter(|(answer, _)| {
            answer
                .split(' ')
                .next()
                .and_then(|status| status.parse().ok())
                .is_some_and(&wanted)
        })
        .map(|(_, count)| count)
        .sum()
}
