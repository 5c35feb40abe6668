//! knit's metrics in Prometheus' text format (`GET /metrics`): runs by cluster, scenario and
//! outcome, run and step durations, hosts failed, runs waiting, SSH connections kept, live-feed
//! clients, sign-in refusals, and EC2 calls by operation and outcome with their latency. They are recorded where they happen through the `metrics`
//! crate; `knit serve` installs the Prometheus recorder (in the CLI they go nowhere).

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// Buckets of durations, in seconds: from a tenth of a second to an hour.
const SECONDS: [f64; 11] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0, 600.0, 3600.0,
];

/// Installs the recorder, once per process.
pub fn install() {
    if RECORDER.get().is_some() {
        return;
    }
    let installed = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS)
        .and_then(PrometheusBuilder::install_recorder);
    match installed {
        Ok(handle) => {
            let _ = RECORDER.set(handle);
            describe();
        }
        Err(error) => tracing::warn!(%error, "knit's metrics are not recorded"),
    }
}

fn describe() {
    metrics::describe_counter!(
        "knit_runs_total",
        "Runs ended, by cluster, scenario and outcome"
    );
    metrics::describe_histogram!(
        "knit_run_duration_seconds",
        metrics::Unit::Seconds,
        "How long runs took, from start to end"
    );
    metrics::describe_histogram!(
        "knit_step_duration_seconds",
        metrics::Unit::Seconds,
        "How long steps took on all their hosts"
    );
    metrics::describe_counter!(
        "knit_hosts_failed_total",
        "Hosts that failed a step of a run"
    );
    metrics::describe_gauge!(
        "knit_runs_waiting",
        "Runs waiting in line or for an approver"
    );
    metrics::describe_gauge!(
        "knit_ssh_connections_kept",
        "SSH connections kept for later runs"
    );
    metrics::describe_gauge!("knit_live_feed_clients", "Clients following a live feed");
    metrics::describe_counter!("knit_sign_in_refusals_total", "Sign-ins refused, by reason");
    metrics::describe_counter!(
        "knit_ec2_calls_total",
        "EC2 calls, by operation and outcome"
    );
    metrics::describe_histogram!(
        "knit_ec2_call_duration_seconds",
        metrics::Unit::Seconds,
        "How long EC2 calls took, retries included"
    );
}

/// The metrics now, with the gauges read at scrape time set first.
pub fn render(runs_waiting: usize, connections_kept: usize) -> String {
    gauge!("knit_runs_waiting").set(runs_waiting as f64);
    gauge!("knit_ssh_connections_kept").set(connections_kept as f64);
    RECORDER
        .get()
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

/// A run of `scenario` on `cluster` ended with `outcome` after `took`, `hosts_failed` of its
/// hosts having failed.
pub fn run_ended(
    cluster: &str,
    scenario: &str,
    outcome: &str,
    took: Duration,
    hosts_failed: usize,
) {
    let labels = [
        ("cluster", cluster.to_owned()),
        ("scenario", scenario.to_owned()),
    ];
    let mut with_outcome = labels.to_vec();
    with_outcome.push(("outcome", outcome.to_owned()));
    counter!("knit_runs_total", &with_outcome).increment(1);
    histogram!("knit_run_duration_seconds", &labels).record(took.as_secs_f64());
    counter!("knit_hosts_failed_total", &labels).increment(hosts_failed as u64);
}

/// An EC2 call of `operation` ended with `outcome` after `took`.
pub fn ec2_call(operation: &str, outcome: &'static str, took: Duration) {
    let operation = operation.to_owned();
    counter!("knit_ec2_calls_total", "operation" => operation.clone(), "outcome" => outcome)
        .increment(1);
    histogram!("knit_ec2_call_duration_seconds", "operation" => operation)
        .record(took.as_secs_f64());
}

/// A step ended on all its hosts after `took`.
pub fn step_ended(took: Duration) {
    histogram!("knit_step_duration_seconds").record(took.as_secs_f64());
}

/// A sign-in was refused, for `reason`.
pub fn sign_in_refused(reason: &'static str) {
    counter!("knit_sign_in_refusals_total", "reason" => reason).increment(1);
}

/// A client of live feed `feed`, counted while it is held.
#[derive(Debug)]
pub struct FeedClient(&'static str);

impl FeedClient {
    pub fn new(feed: &'static str) -> Self {
        gauge!("knit_live_feed_clients", "feed" => feed).increment(1.0);
        Self(feed)
    }
}

impl Drop for FeedClient {
    fn drop(&mut self) {
        gauge!("knit_live_feed_clients", "feed" => self.0).decrement(1.0);
    }
}
