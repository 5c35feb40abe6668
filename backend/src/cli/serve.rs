//! `knit serve`: start the console and run until interrupted.

use crate::config::{LogStyle, Settings};

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    init_tracing(settings.log_format);
    crate::serve(settings, shutdown_signal()).await
}

fn init_tracing(style: LogStyle) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KNIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("knit=info,tower_http=info"));
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match style {
        LogStyle::Text => log.init(),
        LogStyle::Json => log.json().init(),
    }
}

/// Resolves on Ctrl-C or SIGTERM, so the sandbox's child processes are stopped on the way out.
/// The handlers are installed now, not when the future is first polled: a signal that comes
/// right after the console is announced must stop knit cleanly, not kill it.
fn shutdown_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
