//! How fast the instance list is with 2,000 instances in moto: `GET /api/instances` cold (EC2
//! read through) and warm (knit's cache) against a direct DescribeInstances loop with the SDK,
//! and the time until Chromium shows the rendered table. Prints figures and ratios; it never
//! passes or fails on time.
//!
//! Run: `.ci/bench` (it builds the console and runs this with the dev profile's cache).

#[path = "../tests/harness/mod.rs"]
#[expect(
    dead_code,
    unused_imports,
    reason = "the bench uses only part of the test harness"
)]
mod harness;

use std::time::{Duration, Instant};

use aws_sdk_ec2::types::InstanceType;
use fantoccini::Locator;
use knit::ec2::{connect, describe_all};
use knit_shared::InstanceList;

use harness::{Browser, KnitServer, built_console, moto_target, start_moto};

const INSTANCES: i32 = 2000;
const BATCH: i32 = 100;
const ROUNDS: u32 = 5;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let target = moto_target(&moto, "us-east-1");
    let (ec2, _) = connect(&target).await;
    println!("launching {INSTANCES} instances in moto…");
    for _ in 0..INSTANCES / BATCH {
        ec2.run_instances()
            .image_id("ami-12c6146b")
            .instance_type(InstanceType::T3Micro)
            .min_count(BATCH)
            .max_count(BATCH)
            .send()
            .await
            .expect("moto launches");
    }

    let sdk = mean(ROUNDS, || async {
        let all = describe_all(&ec2, &target, 1000).await.expect("describe");
        assert_eq!(all.len(), INSTANCES as usize);
    })
    .await;

    let web = built_console();
    let server = KnitServer::start(
        &dir.path().join("data"),
        &[
            "--ec2-endpoint",
            &moto.endpoint(),
            "--region",
            "us-east-1",
            "--web-dir",
            web.to_str().expect("utf-8"),
        ],
    );
    let http = server.client();
    let get = |query: &'static str| {
        let http = http.clone();
        let url = server.api(&format!("/instances{query}"));
        async move {
            let list: InstanceList = http
                .get(url)
                .send()
                .await
                .expect("list")
                .json()
                .await
                .expect("JSON");
            assert_eq!(list.total, INSTANCES as usize);
        }
    };
    let cold = mean(ROUNDS, || get("?refresh=true")).await;
    get("").await;
    let warm = mean(ROUNDS * 4, || get("")).await;

    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    let mut shown = Duration::ZERO;
    for _ in 0..3 {
        browser.client.goto("about:blank").await.expect("blank");
        let started = Instant::now();
        browser
            .client
            .goto(&format!("{}/instances", server.url))
            .await
            .expect("open");
        loop {
            let rows = browser
                .client
                .find_all(Locator::Css("table.instances tbody tr"))
                .await
                .expect("rows");
            if rows.len() == 100 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        shown += started.elapsed();
    }
    let page = shown / 3;
    browser.close().await;
    server.stop();
    moto.stop().await;

    println!();
    println!(
        "{INSTANCES} instances in moto (debug builds, 2 cores; moto is the slow part of a cold read)"
    );
    println!("  direct SDK DescribeInstances loop    {:>9.1} ms", ms(sdk));
    println!(
        "  GET /api/instances, cold (refresh)   {:>9.1} ms   {:.2}x the SDK loop",
        ms(cold),
        ratio(cold, sdk)
    );
    println!(
        "  GET /api/instances, warm (cache)     {:>9.1} ms   {:.3}x the SDK loop",
        ms(warm),
        ratio(warm, sdk)
    );
    println!(
        "  browser: navigation to 100 rows shown {:>8.1} ms   {:.2}x the SDK loop",
        ms(page),
        ratio(page, sdk)
    );
}

/// Mean wall time of `rounds` runs of `run`.
async fn mean<F, Fut>(rounds: u32, mut run: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let started = Instant::now();
    for _ in 0..rounds {
        run().await;
    }
    started.elapsed() / rounds
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
