//! `knit serve` with bad settings: one clear line that says what to fix, a non-zero exit, and
//! never a panic.

use std::net::TcpListener;
use std::process::Output;

use crate::harness::{dummy_web_dir, knit_command};

/// Runs `knit serve` with `args` against a data dir and console in `dir`, with fake AWS
/// credentials so only the setting under test can be wrong.
fn serve(dir: &std::path::Path, args: &[&str]) -> Output {
    with_time_limit(knit_command())
        .arg("serve")
        .arg("--web-dir")
        .arg(dummy_web_dir(dir))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run knit")
}

/// The same command under coreutils' `timeout`, so a knit that wrongly starts cannot hang the run.
fn with_time_limit(command: std::process::Command) -> std::process::Command {
    let mut limited = std::process::Command::new("timeout");
    limited
        .arg("120")
        .arg(command.get_program())
        .args(command.get_args());
    limited
}

/// The one line knit printed, after checking it failed cleanly.
fn single_error_line(output: &Output) -> String {
    assert!(!output.status.success(), "knit should have failed");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "knit panicked: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("knit: error: "), "{stderr}");
    lines[0].to_owned()
}

fn closed_port() -> u16 {
    knit::sandbox::free_port().expect("free port")
}

#[test]
fn a_port_in_use_is_named_with_the_flag_to_change_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let data = dir.path().join("data");
    let output = serve(
        dir.path(),
        &[
            "--listen",
            &address,
            "--data-dir",
            data.to_str().expect("utf-8"),
        ],
    );
    let line = single_error_line(&output);
    assert!(
        line.contains(&format!("cannot listen on {address}")),
        "{line}"
    );
    assert!(
        line.contains("--listen") && line.contains("in use"),
        "{line}"
    );
}

#[test]
fn an_unusable_data_dir_is_named_with_the_flag_to_change_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A file where the data dir should be: unusable even for root, who ignores permissions.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let data = file.join("data");
    let output = serve(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().expect("utf-8"),
        ],
    );
    let line = single_error_line(&output);
    assert!(
        line.contains(&format!("the data dir {} is not usable", data.display())),
        "{line}"
    );
    assert!(line.contains("--data-dir"), "{line}");
}

#[test]
fn an_unreachable_ec2_endpoint_is_named_with_the_flag_to_change_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let data = dir.path().join("data");
    let output = serve(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().expect("utf-8"),
            "--ec2-endpoint",
            &endpoint,
        ],
    );
    let line = single_error_line(&output);
    assert!(
        line.contains(&format!("cannot reach EC2 at {endpoint}")),
        "{line}"
    );
    assert!(line.contains("--ec2-endpoint"), "{line}");
}

#[test]
fn settings_come_from_the_environment_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let output = with_time_limit(knit_command())
        .arg("serve")
        .env("KNIT_LISTEN", &address)
        .env("KNIT_DATA_DIR", dir.path().join("data"))
        .env("KNIT_WEB_DIR", dummy_web_dir(dir.path()))
        .output()
        .expect("run knit");
    let line = single_error_line(&output);
    assert!(
        line.contains(&format!("cannot listen on {address}")),
        "{line}"
    );
}

#[test]
fn a_missing_console_says_how_to_build_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = with_time_limit(knit_command())
        .args(["serve", "--listen", "127.0.0.1:0", "--web-dir"])
        .arg(dir.path().join("nowhere"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .output()
        .expect("run knit");
    let line = single_error_line(&output);
    assert!(line.contains("trunk build --release"), "{line}");
}

#[test]
fn help_describes_every_serve_option_and_its_environment_variable() {
    let output = knit_command()
        .args(["serve", "--help"])
        .output()
        .expect("run knit");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for (flag, variable) in [
        ("--listen", "KNIT_LISTEN"),
        ("--data-dir", "KNIT_DATA_DIR"),
        ("--profile", "KNIT_PROFILE"),
        ("--region", "KNIT_REGION"),
        ("--ec2-endpoint", "KNIT_EC2_ENDPOINT"),
        ("--database-url", "KNIT_DATABASE_URL"),
        ("--clusters", "KNIT_CLUSTERS"),
        ("--sandbox", "KNIT_SANDBOX"),
        ("--web-dir", "KNIT_WEB_DIR"),
        ("--log-format", "KNIT_LOG_FORMAT"),
        ("--keep-runs-days", "KNIT_KEEP_RUNS_DAYS"),
    ] {
        assert!(help.contains(flag), "serve --help lacks {flag}:\n{help}");
        assert!(
            help.contains(variable),
            "serve --help lacks {variable}:\n{help}"
        );
    }
    let top = knit_command().arg("--help").output().expect("run knit");
    assert!(String::from_utf8_lossy(&top.stdout).contains("serve"));
}

#[tokio::test]
async fn with_log_format_json_every_log_line_is_a_json_object() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = crate::harness::start_moto(dir.path()).await;
    let server = crate::harness::KnitServer::on_moto(
        &dir.path().join("data"),
        &moto,
        &dummy_web_dir(dir.path()),
        &["--log-format", "json"],
    );
    // A request, so that there is something to log.
    let _ = server.get("/health").await.expect("health");
    let log = server.log();
    let entries: Vec<serde_json::Value> = log
        .lines()
        .filter(|line| !line.starts_with("knit: "))
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON object: {line}"))
        })
        .collect();
    assert!(
        entries.iter().any(
            |entry| entry["fields"]["message"] == "finished processing request"
                && entry["fields"]["status"] == 200
                && entry["span"]["uri"] == "/api/health"
        ),
        "{log}"
    );
    server.stop();
}
