//! `GET /metrics` after a run, an EC2 call and a refused sign-in, read with a Prometheus text
//! parser: with an API token on the console's address, without one on `--metrics-listen`.

use knit_shared::{RunSummary, StartRun};
use prometheus_parse::{Scrape, Value};

use crate::harness::{EventReader, TEST_ADMIN, dummy_web_dir, start_hosts, start_moto};

/// The value of `metric` whose labels include `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<Value> {
    scrape
        .samples
        .iter()
        .find(|sample| {
            sample.metric == metric
                && labels
                    .iter()
                    .all(|(name, want)| sample.labels.get(name) == Some(*want))
        })
        .map(|sample| sample.value.clone())
}

fn parse(text: &str) -> Scrape {
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).expect("Prometheus text")
}

#[tokio::test]
async fn metrics_count_runs_steps_and_refused_sign_ins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let hosts = start_hosts(&data, &["web1", "web2"]).await;
    hosts.write_cluster(
        "api",
        "[machines.web]\nhosts = [\"{HOST:web1}\", \"{HOST:web2}\"]\n[machines.web.roles.app]\nkind = \"hello\"\n\n\
         [kinds.hello.tasks]\none = [\"echo one\"]\ntwo = [\"echo two\"]\n\n\
         [scenarios.both]\nsteps = [\"app.one\", \"app.two\"]\n",
    );
    let moto = start_moto(dir.path()).await;
    let side = knit::sandbox::free_port().expect("port");
    let side = format!("127.0.0.1:{side}");
    let server = hosts.serve_with(
        &data,
        &moto,
        &dummy_web_dir(dir.path()),
        &["--metrics-listen", &side],
    );

    let run: RunSummary = server
        .post(
            "/runs",
            &StartRun {
                cluster: "api".to_owned(),
                scenario: "both".to_owned(),
                ..StartRun::default()
            },
        )
        .await
        .json()
        .await
        .expect("run JSON");
    let mut events = server
        .get(&format!("/runs/{}/events", run.id))
        .await
        .expect("events");
    let mut reader = EventReader::default();
    while reader
        .next::<knit_shared::RunEvent>(&mut events)
        .await
        .is_some()
    {}
    let refused = reqwest::Client::new()
        .post(server.api("/session"))
        .header(reqwest::header::ORIGIN, &server.url)
        .json(&serde_json::json!({"name": TEST_ADMIN, "password": "not the password"}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(refused.status(), 401);

    // An EC2 call, through the instance list.
    let listed = server.get("/instances").await.expect("instances");
    assert_eq!(listed.status(), 200);

    // With the admin's token on the console's address; nothing without one.
    let anonymous = reqwest::get(format!("{}/metrics", server.url))
        .await
        .expect("scrape");
    assert_eq!(anonymous.status(), 401);
    let text = server
        .client()
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    let scrape = parse(&text);
    let runs = [("cluster", "api"), ("scenario", "both"), ("outcome", "ok")];
    assert_eq!(
        value(&scrape, "knit_runs_total", &runs),
        Some(Value::Counter(1.0)),
        "{text}"
    );
    let Some(Value::Histogram(buckets)) = value(&scrape, "knit_step_duration_seconds", &[]) else {
        panic!("no step histogram in {text}");
    };
    assert_eq!(
        buckets.last().map(|bucket| bucket.count),
        Some(2.0),
        "two steps: {text}"
    );
    assert!(
        matches!(
            value(&scrape, "knit_run_duration_seconds", &[("cluster", "api")]),
            Some(Value::Histogram(_))
        ),
        "{text}"
    );
    assert_eq!(
        value(
            &scrape,
            "knit_sign_in_refusals_total",
            &[("reason", "wrong_password")]
        ),
        Some(Value::Counter(1.0)),
        "{text}"
    );
    assert_eq!(
        value(&scrape, "knit_ssh_connections_kept", &[]),
        Some(Value::Gauge(2.0)),
        "{text}"
    );
    assert_eq!(
        value(&scrape, "knit_runs_waiting", &[]),
        Some(Value::Gauge(0.0)),
        "{text}"
    );
    let described = [("operation", "DescribeInstances"), ("outcome", "ok")];
    assert!(
        matches!(value(&scrape, "knit_ec2_calls_total", &described), Some(Value::Counter(calls)) if calls >= 1.0),
        "{text}"
    );
    assert!(
        matches!(
            value(
                &scrape,
                "knit_ec2_call_duration_seconds",
                &[("operation", "DescribeInstances")]
            ),
            Some(Value::Histogram(_))
        ),
        "{text}"
    );

    // The side address answers anyone, with the same metrics.
    let side_text = reqwest::get(format!("http://{side}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    let side_scrape = parse(&side_text);
    assert_eq!(
        value(&side_scrape, "knit_runs_total", &runs),
        Some(Value::Counter(1.0))
    );
    server.stop();
}
