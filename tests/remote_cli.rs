//! `knit --server URL --token T <cluster> <scenario>` against a real `knit serve` on sshd hosts:
//! the run is the server's (its roles, its audit), the output and exit codes are a local run's,
//! and a dropped stream is resumed without a gap or a repeated line.

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use knit_shared::RunList;

use crate::harness::{KnitServer, Relay, dummy_web_dir, knit_command, serve_cluster};

const CLUSTER: &str = r#"[machines.web]
hosts = ["{HOST:web1}", "{HOST:web2}"]
[machines.web.roles.app]
kind = "ticker"

[kinds.ticker.tasks]
count = ["for i in 1 2 3; do echo line $i on {{ host }}; done"]
broken = ["echo about to fail; exit 3"]
tick = ["for i in $(seq 1 40); do echo tick $i; sleep 0.1; done"]

[scenarios.count]
steps = ["app.count"]
[scenarios.broken]
steps = ["app.broken"]
[scenarios.tick]
steps = ["app.tick"]
"#;

/// `knit --server URL --token TOKEN ARGS`, with none of this machine's knit settings.
fn remote(url: &str, token: &str, args: &[&str]) -> std::process::Command {
    let mut command = knit_command();
    command
        .args(["--server", url])
        .args(args)
        .env("KNIT_TOKEN", token)
        .env_remove("KNIT_SERVER")
        .env_remove("KNIT_DATA_DIR")
        .env_remove("KNIT_CLUSTERS")
        .stdin(Stdio::null());
    command
}

fn run(url: &str, token: &str, args: &[&str]) -> Output {
    remote(url, token, args).output().expect("knit runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn start(
    dir: &std::path::Path,
) -> (crate::harness::TestHosts, knit::sandbox::Moto, KnitServer) {
    serve_cluster(dir, "api", CLUSTER, &dummy_web_dir(dir)).await
}

#[tokio::test]
async fn a_deployer_runs_a_scenario_through_the_server_as_if_locally() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start(dir.path()).await;
    server.add_user("dee", "deployer");
    let token = server.token_of("dee");

    let done = run(&server.url, &token, &["api", "count"]);
    let (out, err) = (text(&done.stdout), text(&done.stderr));
    assert_eq!(done.status.code(), Some(0), "{out}\n{err}");
    for host in ["web-1", "web-2"] {
        for i in 1..=3 {
            let line = format!("{host} | line {i} on {host}");
            assert_eq!(out.matches(&line).count(), 1, "{line} once in {out}");
        }
        assert!(
            err.contains(&format!("[1/1] app.count on {host}: ok")),
            "{err}"
        );
    }
    assert!(err.contains("ok in"), "{err}");
    assert!(!err.contains("warning"), "{err}");

    // From a file, as a script keeps it; on the command line it works, with a warning.
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{token}\n")).expect("token file");
    let from_file = remote(
        &server.url,
        "",
        &[
            "--token-file",
            file.to_str().expect("utf-8"),
            "api",
            "count",
        ],
    )
    .env_remove("KNIT_TOKEN")
    .output()
    .expect("knit runs");
    assert_eq!(
        from_file.status.code(),
        Some(0),
        "{}",
        text(&from_file.stderr)
    );
    let given = remote(&server.url, "", &["--token", &token, "api", "count"])
        .env_remove("KNIT_TOKEN")
        .output()
        .expect("knit runs");
    assert_eq!(given.status.code(), Some(0), "{}", text(&given.stderr));
    assert!(
        text(&given.stderr).contains("shows in `ps`"),
        "{}",
        text(&given.stderr)
    );

    // The run is the server's, by the token's account.
    let runs: RunList = server.get_json("/runs?cluster=api").await;
    assert_eq!(runs.runs[0].actor, "dee");

    // A failing scenario fails the command; so does a scenario the cluster lacks, as a refusal.
    let failed = run(&server.url, &token, &["api", "broken"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert!(text(&failed.stdout).contains("web-1 | about to fail"));
    let unknown = run(&server.url, &token, &["api", "nonesuch"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", text(&unknown.stderr));
    assert!(text(&unknown.stderr).contains("nothing ran"));

    // The history and the hosts, read through the server too.
    let listed = run(&server.url, &token, &["api", "runs"]);
    let listed = text(&listed.stdout);
    assert!(
        listed
            .lines()
            .next()
            .is_some_and(|line| line.contains("nonesuch") || line.contains("broken")),
        "{listed}"
    );
    let hosts = run(&server.url, &token, &["api", "hosts"]);
    assert!(
        text(&hosts.stdout).contains("web-1"),
        "{}",
        text(&hosts.stdout)
    );
}

#[tokio::test]
async fn a_viewer_token_is_refused_and_nothing_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start(dir.path()).await;
    server.add_user("vic", "viewer");
    let token = server.token_of("vic");

    let refused = run(&server.url, &token, &["api", "count"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("deployer"),
        "{}",
        text(&refused.stderr)
    );
    let runs: RunList = server.get_json("/runs?cluster=api").await;
    assert!(runs.runs.is_empty(), "{runs:?}");

    let no_token = run(&server.url, "", &["api", "count"]);
    assert_ne!(no_token.status.code(), Some(0));
    assert!(
        text(&no_token.stderr).contains("API token"),
        "{}",
        text(&no_token.stderr)
    );
}

#[tokio::test]
async fn a_dropped_stream_is_resumed_without_a_gap_or_a_repeat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start(dir.path()).await;
    let relay = Relay::start(&server.url).await;

    let mut child = remote(&relay.url, &server.token, &["api", "tick"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("knit starts");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, seen) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line.clone());
            all.push(line);
        }
        all
    });
    // Once the first ticks arrived, every connection through the relay drops.
    let first_tick = tokio::task::spawn_blocking(move || {
        while let Ok(line) = seen.recv_timeout(Duration::from_secs(60)) {
            if line.contains("| tick") {
                return Some(line);
            }
        }
        None
    });
    let first = first_tick.await.expect("joined");
    assert!(first.is_some(), "no tick within a minute");
    relay.cut();

    let status = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("joined")
        .expect("knit ends");
    let out = reader.join().expect("reader");
    let err = text(&status.stderr);
    assert_eq!(status.status.code(), Some(0), "{err}");
    assert!(err.contains("resuming"), "the stream dropped: {err}");
    for host in ["web-1", "web-2"] {
        for i in 1..=40 {
            let line = format!("{host} | tick {i}");
            let count = out.iter().filter(|l| **l == line).count();
            assert_eq!(count, 1, "{line} once, in {out:?}");
        }
    }
}
