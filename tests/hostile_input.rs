//! schemathesis (from PyPI) against the API as its OpenAPI document describes it, signed in as an
//! admin: whatever it sends, no answer is a server error, and every error is the JSON body the
//! document promises.

use std::process::Command;

use crate::harness::start_server;

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_only_json_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_server(dir.path()).await;
    let program = std::env::var_os("KNIT_SCHEMATHESIS").unwrap_or_else(|| "schemathesis".into());
    let output = Command::new(&program)
        .args(["run", &server.api("/openapi.json")])
        .args([
            "--header",
            &format!("Authorization: Bearer {}", server.token),
        ])
        .args([
            "--checks",
            "not_a_server_error,content_type_conformance,response_schema_conformance",
        ])
        // Live feeds never end; their first message is tested elsewhere.
        .args(["--exclude-path-regex", "/events$|/progress$"])
        .args(["--max-examples", "10", "--workers", "1", "--seed", "1"])
        // What is checked is each answer, not its speed: under a whole test run's load an answer
        // (an argon2 hash, a call to moto) can pass schemathesis's own 10 s.
        .args(["--request-timeout", "120"])
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|error| {
            panic!("cannot run {program:?} (the README's set-up installs it): {error}")
        });
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("passed"), "{report}");
    assert!(!server.log().contains("internal error"), "{}", server.log());
    server.stop();
}
