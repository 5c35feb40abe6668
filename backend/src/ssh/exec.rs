//! Running one command on a host over an open session: output line by line as it comes, the
//! exit code, and a way to stop it (time-out or cancel) that kills the remote processes too.

use std::sync::Arc;
use std::time::Duration;

use openssh::{Session, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::report::cause_chain;

/// Which output a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// Killed by a signal knit did not send.
    Killed,
    TimedOut(Duration),
    Cancelled,
    /// The connection broke; the command's fate is unknown.
    Lost(String),
}

/// What to run: a shell script, and text for its standard input.
#[derive(Debug, Clone)]
pub struct Remote<'a> {
    pub script: &'a str,
    pub stdin: Option<&'a [u8]>,
    pub timeout: Option<Duration>,
}

/// How long to wait for the remote pid before giving up on stopping a command.
const KILL_GRACE: Duration = Duration::from_secs(3);
/// How long output may go on after a command was stopped.
const DRAIN: Duration = Duration::from_secs(10);

/// Runs `remote` and calls `on_line` with each line of output until it ends.
///
/// sshd starts the login shell as the leader of a new session, so its pid names the process
/// group of everything the script starts. It prints that pid on stderr after a marker made for
/// this command (knit reads it and does not show it; whatever a login shell or sshd prints
/// before it is shown as output), then `exec`s the script in its place; to stop the command,
/// knit signals the whole group over a second channel of the same connection. Closing the
/// channel alone would leave the remote processes running.
pub async fn run(
    session: &Arc<Session>,
    remote: Remote<'_>,
    cancel: &CancellationToken,
    mut on_line: impl FnMut(Output, String),
) -> Exit {
    let marker = pid_marker();
    let wrapped = format!("echo {marker}$$ >&2; exec sh -c {}", quote(remote.script));
    let mut command = Arc::clone(session).arc_raw_command(wrapped);
    command
        .stdin(if remote.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn().await {
        Ok(child) => child,
        Err(error) => return Exit::Lost(cause_chain(&error)),
    };
    if let (Some(text), Some(mut stdin)) = (remote.stdin, child.stdin().take()) {
        if let Err(error) = stdin.write_all(text).await {
            return Exit::Lost(format!("cannot send the upload: {error}"));
        }
        drop(stdin);
    }
    let (Some(stdout), Some(stderr)) = (child.stdout().take(), child.stderr().take()) else {
        return Exit::Lost("the command's output was not captured".to_owned());
    };

    let (lines_tx, mut lines) = tokio::sync::mpsc::channel(256);
    let (pid_tx, pid_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(read_lines(stdout, Output::Stdout, lines_tx.clone(), None));
    let pid = Some((marker, pid_tx));
    tokio::spawn(read_lines(stderr, Output::Stderr, lines_tx, pid));

    let deadline = remote.timeout.map(|limit| Instant::now() + limit);
    let mut pid = Some(pid_rx);
    let mut stop: Option<Exit> = None;
    let mut drain_until: Option<Instant> = None;
    // Output first, then the exit status: openssh's wait() cuts off output still in flight.
    loop {
        tokio::select! {
            line = lines.recv() => match line {
                Some((output, text)) => on_line(output, text),
                None => break,
            },
            () = cancel.cancelled(), if stop.is_none() => stop = Some(Exit::Cancelled),
            () = sleep_until(deadline), if stop.is_none() => stop = remote.timeout.map(Exit::TimedOut),
            // A process that escaped the group may hold the output open; stop waiting for it.
            () = sleep_until(drain_until), if drain_until.is_some() => break,
        }
        if stop.is_some()
            && let Some(pid) = pid.take()
        {
            break_out(session, pid).await;
            drain_until = Some(Instant::now() + DRAIN);
        }
    }
    if let Some(reason) = stop {
        let _ = child.disconnect().await;
        return reason;
    }
    let code = match child.wait().await {
        Ok(status) => status.code(),
        Err(openssh::Error::RemoteProcessTerminated) => None,
        Err(error) => return Exit::Lost(cause_chain(&error)),
    };
    match code {
        Some(code) => Exit::Code(code),
        // No exit code: a signal ended the command, or the connection went away under it.
        None => match session.check().await {
            Ok(()) => Exit::Killed,
            Err(error) => Exit::Lost(cause_chain(&error)),
        },
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Stops the remote process group: TERM, then KILL if it is still there after a grace period.
async fn break_out(session: &Session, pid: tokio::sync::oneshot::Receiver<u32>) {
    // No pid in time: the command died before it could start, or the connection is gone.
    let Ok(Ok(pid)) = tokio::time::timeout(KILL_GRACE, pid).await else {
        return;
    };
    // `kill -SIG -PGID` rather than `kill -SIG -- -PGID`: dash, Debian's sh, refuses `--`.
    let script = format!(
        "kill -TERM -{pid} 2>/dev/null || exit 0; \
         for i in 1 2 3 4 5 6; do sleep 0.5; kill -0 -{pid} 2>/dev/null || exit 0; done; \
         kill -KILL -{pid} 2>/dev/null; exit 0"
    );
    // What the host prints (a login banner) is of no use here, and must not reach knit's own
    // terminal.
    let _ = session
        .raw_command(script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// A line prefix no output of a command can guess: the remote pid follows it on stderr.
fn pid_marker() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system gives random bytes");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("knit-pid-{hex}:")
}

/// Sends each line of `source` to `lines`, except the line of `pid`'s marker, whose number goes
/// to `pid`'s sender.
async fn read_lines(
    source: impl AsyncRead + Unpin,
    output: Output,
    lines: tokio::sync::mpsc::Sender<(Output, String)>,
    mut pid: Option<(String, tokio::sync::oneshot::Sender<u32>)>,
) {
    let mut reader = BufReader::new(source);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&buffer)
            .trim_end_matches(['\n', '\r'])
            .to_owned();
        let number = pid
            .as_ref()
            .and_then(|(marker, _)| text.trim().strip_prefix(marker.as_str()))
            .and_then(|number| number.parse().ok());
        if let Some(number) = number
            && let Some((_, sender)) = pid.take()
        {
            let _ = sender.send(number);
            continue;
        }
        if lines.send((output, text)).await.is_err() {
            return;
        }
    }
}

/// `text` as one single-quoted shell word.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_keeps_single_quotes() {
        assert_eq!(quote("echo 'hi' $HOME"), r"'echo '\''hi'\'' $HOME'");
    }
}
