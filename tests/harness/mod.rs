//! Starting and stopping the real parts the tests run against. Every guard stops its process
//! (and that process's children) when dropped, so a failing test leaves nothing running.

mod app;
mod browser;
mod faults;
mod image_reads;
mod load;
mod moto;
mod postgres;
mod process;
mod relay;
mod repository;
mod server;
mod sse;
mod ssh_hosts;
mod walk;

pub use app::{app_serving, app_with, send};
pub use browser::Browser;
pub use faults::InjectedError;
pub use image_reads::ImageReads;
pub use load::{Load, Tally};
pub use moto::{inbound_cidrs, moto_client, moto_iam, moto_target, start_moto};
pub use postgres::start_postgres;
pub use process::ProcessGroup;
pub use relay::Relay;
pub use repository::{bare_for_hosts, git};
pub use server::{
    KnitServer, MACHINES_RUN, TEST_ADMIN, TEST_AWS_SECRET, TEST_PASSWORD, client_with,
    dummy_web_dir, error_of, knit_command, knit_on_moto, session_cookie, sign_in, signed_in_as,
};
pub use sse::EventReader;
pub use ssh_hosts::{
    TestHosts, lines_by_host, plan, serve_cluster, start_hosts, start_hosts_configured,
};
pub use walk::{open_scenario, press_scenario, start_in_dialog};

/// The folder of the console built by Trunk, which the test command builds before the tests.
pub fn built_console() -> std::path::PathBuf {
    let dir = std::env::var_os("KNIT_WEB_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../dist").into());
    assert!(
        dir.join("index.html").is_file(),
        "no built console in {}: run `trunk build --release` first (the README's test command does)",
        dir.display()
    );
    dir
}

/// moto, and `knit serve` on it with a stand-in console.
pub async fn start_server(dir: &std::path::Path) -> (knit::sandbox::Moto, KnitServer) {
    let moto = start_moto(dir).await;
    let server = KnitServer::on_moto(&dir.join("data"), &moto, &dummy_web_dir(dir), &[]);
    (moto, server)
}

/// moto, and `knit serve --sandbox` on it with the built console: the sandbox as a newcomer
/// sees it, with moto reachable by the test.
/// Its launched instances are moto's rows only: `start_sandbox_with` turns machines on.
pub async fn start_sandbox(dir: &std::path::Path) -> (knit::sandbox::Moto, KnitServer) {
    start_sandbox_with(dir, &["--sandbox-machines", "off"]).await
}

/// `start_sandbox` with `extra` flags.
pub async fn start_sandbox_with(
    dir: &std::path::Path,
    extra: &[&str],
) -> (knit::sandbox::Moto, KnitServer) {
    let moto = start_moto(dir).await;
    let web = built_console();
    let endpoint = moto.endpoint();
    let mut args = vec![
        "--sandbox",
        "--ec2-endpoint",
        &endpoint,
        "--web-dir",
        web.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    let server = KnitServer::start(&dir.join("data"), &args);
    (moto, server)
}

/// The clusters of the definitions in `dir`, with an EC2 that is reached only if a cluster
/// launches machines (none of these tests' do).
pub fn fleet(dir: &std::path::Path) -> knit::runs::Fleet {
    let ec2 = knit::ec2::Ec2Hub::lazy(knit::ec2::Ec2Target::default());
    knit::runs::Fleet::new(
        vec![dir.to_owned()],
        std::sync::Arc::new(ec2),
        dir.join("secrets"),
    )
}

/// What a command printed, standard output then standard error, for its test's assertions.
pub fn said(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The names of the entries of folder `dir` that start with `start`: a sandbox's namespaces in
/// `/run/netns`, its cgroups, to prove it left none.
pub fn names_starting(dir: impl AsRef<std::path::Path>, start: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(start))
                .collect()
        })
        .unwrap_or_default()
}

/// What the command `attempt` runs printed once it succeeds, tried every 250 ms; panics with
/// `what` and its last failure after `patience`.
pub async fn output_until<F, Fut>(what: &str, patience: std::time::Duration, attempt: F) -> String
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = std::process::Output>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let output = attempt().await;
        if output.status.success() {
            return String::from_utf8_lossy(&output.stdout).trim().to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} failed for {patience:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
