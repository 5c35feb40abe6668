//! Child processes of the sandbox: start with a log file, wait until they listen, stop.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::SandboxError;

/// Starts `command` with its output appended to `log`; the child dies with its handle.
pub fn spawn(mut command: Command, program: &str, log: &Path) -> Result<Child, SandboxError> {
    let start_error = |detail: String| SandboxError::Start {
        program: program.to_owned(),
        detail,
    };
    let file = std::fs::File::create(log).map_err(|error| {
        start_error(format!("cannot create its log {}: {error}", log.display()))
    })?;
    let stderr = file
        .try_clone()
        .map_err(|error| start_error(format!("cannot share its log: {error}")))?;
    command
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        .kill_on_drop(true);
    command.spawn().map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => start_error(format!(
            "{program} is not installed or not on PATH; the README's set-up command installs it"
        )),
        _ => start_error(error.to_string()),
    })
}

/// Waits until the child accepts connections on `port` and, if `banner` is given, greets with
/// it. Fails early, with the end of its log, if the child exits.
pub async fn wait_until_listening(
    child: &mut Child,
    program: &str,
    port: u16,
    banner: Option<&[u8]>,
    log: &Path,
    timeout: Duration,
) -> Result<(), SandboxError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Ok(Some(_status)) = child.try_wait() {
            return Err(SandboxError::Exited {
                program: program.to_owned(),
                log_tail: log_tail(log),
            });
        }
        if answers(port, banner).await {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(SandboxError::NotReady {
                program: program.to_owned(),
                port,
                seconds: timeout.as_secs(),
                log_tail: log_tail(log),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn answers(port: u16, banner: Option<&[u8]>) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    let Some(banner) = banner else {
        return true;
    };
    let mut greeting = vec![0; banner.len()];
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut greeting));
    matches!(read.await, Ok(Ok(_))) && greeting == banner
}

/// Kills the child and waits for it, so no process outlives the sandbox.
pub async fn stop(mut child: Child) {
    let _ = child.start_kill();
    let _ = child.wait().await;
}

/// The last lines of a log, on one line, for an error message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
    if tail.is_empty() {
        format!("(nothing in {})", log.display())
    } else {
        tail
    }
}
