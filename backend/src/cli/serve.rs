//! `knit serve`: start the console and run until interrupted.

use crate::config::Settings;

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    init_tracing();
    crate::serve(settings, shutdown_signal()).await
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KNIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("knit=info,tower_http=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Resolves on Ctrl-C or SIGTERM, so the sandbox's child processes are stopped on the way out.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = ctrl_c => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
