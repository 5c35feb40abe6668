//! 100,000 lines of output from 20 loopback sshd hosts, watched through `knit serve`'s live
//! feed of the run (read by curl) as an open run view does: how long each line takes from its
//! host's printing to the feed (the hosts' clock is this machine's), and whether every line
//! came (the feed sends only what is stored). Prints figures; it never passes or fails on time.
//!
//! Run: `.ci/bench` (a release build of knit), or `cargo bench --bench live_log`.

#[path = "../tests/harness/mod.rs"]
#[expect(
    dead_code,
    unused_imports,
    reason = "the bench uses only part of the test harness"
)]
mod harness;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use knit_shared::{RunSummary, StartRun};

use harness::{dummy_web_dir, start_hosts, start_moto};

const HOSTS: usize = 20;
/// Each host prints this many bursts of lines, one every 20 ms: 50,000 lines a second in all.
const BURSTS: usize = 100;
const BURST: usize = 50;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let names: Vec<String> = (1..=HOSTS).map(|n| format!("host{n:02}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    println!("starting {HOSTS} sshd hosts on loopback, moto and knit serve…");
    let hosts = start_hosts(&data, &name_refs).await;
    let list: Vec<String> = names
        .iter()
        .map(|name| format!("\"{{HOST:{name}}}\""))
        .collect();
    // Each line is the host's time when it printed it, in µs; perl flushes every line.
    let flood = format!(
        "perl -MTime::HiRes=time,sleep -e '$| = 1; for (1..{BURSTS}) {{ printf \\\"t %d\\\\n\\\", time() * 1e6 for 1..{BURST}; sleep 0.02 }}'"
    );
    hosts.write_cluster(
        "flood",
        &format!(
            "parallel = {HOSTS}\n[machines.app]\nhosts = [{}]\n[machines.app.roles.app]\nkind = \"flood\"\n\n\
             [kinds.flood.tasks]\nflood = [\"{flood}\"]\n\n[scenarios.flood]\nsteps = [\"app.flood\"]\n",
            list.join(", ")
        ),
    );
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(&data, &moto, &dummy_web_dir(dir.path()));

    let started = Instant::now();
    let run: RunSummary = server
        .client()
        .post(server.api("/runs"))
        .json(&StartRun {
            cluster: "flood".to_owned(),
            scenario: "flood".to_owned(),
            ..StartRun::default()
        })
        .send()
        .await
        .expect("start the run")
        .json()
        .await
        .expect("the run");
    // Read as the page does, by curl: this bench's own code is unoptimised, and an HTTP client
    // built so would take more of the two cores than knit does. The stamp is found in each
    // event's text, not parsed as JSON, for the same reason.
    let mut curl = Command::new("curl")
        .args(["--silent", "--show-error", "--no-buffer", "--header"])
        .arg(format!("Authorization: Bearer {}", server.token))
        .arg(server.api(&format!("/runs/{}/events", run.id)))
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl starts");
    let feed = BufReader::with_capacity(1 << 16, curl.stdout.take().expect("curl's output"));
    let mut lags = Vec::with_capacity(HOSTS * BURSTS * BURST);
    for line in feed.lines() {
        let line = line.expect("the feed");
        if let Some(stamp) = stamp_in(&line) {
            lags.push(Duration::from_micros(micros_now().saturating_sub(stamp)));
        }
    }
    assert!(curl.wait().expect("curl ends").success(), "curl failed");
    let elapsed = started.elapsed();
    lags.sort();
    let at = |share: f64| lags[((lags.len() - 1) as f64 * share) as usize];
    println!();
    println!(
        "{} lines from {HOSTS} hosts ({} per host, {BURST} every 20 ms), watched through the live feed:",
        HOSTS * BURSTS * BURST,
        BURSTS * BURST
    );
    println!(
        "  arrived        {} of {} ({:.0} ms from the start of the run to the end of its feed)",
        lags.len(),
        HOSTS * BURSTS * BURST,
        elapsed.as_secs_f64() * 1000.0
    );
    if !lags.is_empty() {
        println!(
            "  lag            median {:.0} ms, 99th percentile {:.0} ms, most {:.0} ms (from the host's print to the feed)",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(at(1.0))
        );
    }
    server.stop();
}

/// The host's stamp in one line of the feed: a `Line` event whose text is `t <µs>`.
fn stamp_in(line: &str) -> Option<u64> {
    let data = line.strip_prefix("data: ")?;
    let start = data.find("\"text\":\"t ")? + "\"text\":\"t ".len();
    let digits = &data[start..];
    let end = digits.find('"')?;
    digits[..end].parse().ok()
}

fn micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as u64
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
