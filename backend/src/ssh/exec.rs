//! Running one command on a host over an open connection: output line by line as it comes, the
//! exit code, and a way to stop it (time-out or cancel) that kills the remote processes too.

use std::sync::Arc;
use std::time::Duration;

use openssh::{Child, ChildStdin, Session, Stdio};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use knit_shared::shell::quote;

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

/// How long a shell may take to start once its command is due before knit tries a new
/// connection: a host that has not started one by then most likely no longer answers on this
/// one (it went away without closing it), which SSH's keep-alives take 45 s to say.
pub const SHELL_START: Duration = Duration::from_secs(10);
/// How long output may go on after a command was stopped.
const DRAIN: Duration = Duration::from_secs(10);

/// A shell on a host waiting for its script: its channel opened and its login shell started
/// ahead of time (while the step before runs), so that starting a command costs only sending
/// the script. Dropped unused, it reads the end of its input and exits without running anything.
#[derive(Debug)]
pub struct Shell {
    master: Arc<Session>,
    child: Child<Arc<Session>>,
    stdin: ChildStdin,
    /// What the host printed before the shell started.
    early: Vec<(Output, String)>,
    lines: mpsc::Receiver<(Output, String)>,
    /// The login shell's, which leads the process group of the command.
    pid: u32,
    lifeline: Lifeline,
    began: oneshot::Receiver<()>,
    marker: String,
}

/// A second channel beside a shell's that stops the shell's process group when it closes
/// without a word from knit: a knit killed outright (its channels close with it, or its
/// connection) leaves no command running, as a terminal's hang-up would end it. Without a
/// terminal, sshd signals nothing when a channel closes.
#[derive(Debug)]
struct Lifeline {
    _child: Child<Arc<Session>>,
    stdin: ChildStdin,
}

impl Lifeline {
    async fn open(master: &Arc<Session>, pid: u32) -> Result<Self, String> {
        let script = format!("read -r _ || {{ {}; }}", stop_group(pid));
        let mut command = Arc::clone(master).arc_raw_command(script);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().await.map_err(|error| cause_chain(&error))?;
        let stdin = child
            .stdin()
            .take()
            .ok_or("the lifeline's input was not captured")?;
        Ok(Self {
            _child: child,
            stdin,
        })
    }

    /// The command ended by itself: what it left running (a daemon it started) stays.
    async fn release(mut self) {
        let _ = self.stdin.write_all(b"\n").await;
        let _ = self.stdin.flush().await;
    }
}

/// How a script sent to a waiting shell fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    Ended(Exit),
    /// The shell was gone before it read the script (the host's processes were killed, the
    /// channel closed): nothing ran, so the script may be sent to a new shell.
    NotStarted(String),
    /// The shell did not start in time: most likely the host no longer answers on this
    /// connection (else it is slow to start shells). The script was not sent, so it may be
    /// sent over a new connection.
    Unanswered(String),
}

/// Opens a shell on `master` that waits for its script, and waits until it has started.
///
/// sshd starts the login shell as the leader of a new session, so its pid names the process
/// group of everything the script starts. It prints that pid on stderr after a marker made for
/// this shell (knit reads it and does not show it; whatever a login shell or sshd prints before
/// it is kept and shown as the command's output), then `exec`s `sh`, which reads the script
/// from stdin up to the marker's end line (`read` takes one byte at a time, so what follows
/// stays for the script: an upload's content), says it began, and runs it with `eval` in the
/// same process, its own two variables unset first. To stop the command, knit signals the
/// whole group over a second channel of the same connection; closing the channel alone would
/// leave the remote processes running.
pub async fn shell(master: &Arc<Session>) -> Result<Shell, String> {
    let marker = marker();
    let reader = format!(
        "while IFS= read -r l; do if [ \"$l\" = {marker}end ]; then echo {marker}go >&2; \
         eval \"unset l s\n$s\"; exit; fi; s=\"$s$l\n\"; done; exit 125"
    );
    let wrapped = format!("echo {marker}$$ >&2; exec sh -c {}", quote(&reader));
    let mut command = Arc::clone(master).arc_raw_command(wrapped);
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().await.map_err(|error| cause_chain(&error))?;
    let (Some(stdin), Some(stdout), Some(stderr)) = (
        child.stdin().take(),
        child.stdout().take(),
        child.stderr().take(),
    ) else {
        return Err("the shell's input and output were not captured".to_owned());
    };
    let (lines_tx, mut lines) = mpsc::channel(256);
    let (pid_tx, mut pid) = oneshot::channel();
    let (began_tx, began) = oneshot::channel();
    tokio::spawn(read_lines(stdout, Output::Stdout, lines_tx.clone(), None));
    let markers = Markers {
        marker: marker.clone(),
        pid: Some(pid_tx),
        began: Some(began_tx),
    };
    tokio::spawn(read_lines(stderr, Output::Stderr, lines_tx, Some(markers)));
    let mut early = Vec::new();
    let pid = loop {
        tokio::select! {
            pid = &mut pid => {
                break pid.map_err(|_| "the shell ended before it started".to_owned())?;
            }
            Some(line) = lines.recv() => early.push(line),
        }
    };
    let lifeline = Lifeline::open(master, pid).await?;
    Ok(Shell {
        master: Arc::clone(master),
        child,
        stdin,
        early,
        lines,
        pid,
        lifeline,
        began,
        marker,
    })
}

/// The shell `opening` gives once it has started, if it does within `patience` of now (with
/// none, as long as SSH's keep-alives allow); else how it did not start, nothing having run.
pub async fn started(
    opening: impl Future<Output = Result<Shell, String>>,
    patience: Option<Duration>,
    cancel: &CancellationToken,
) -> Result<Shell, Ran> {
    let deadline = patience.map(|patience| Instant::now() + patience);
    tokio::select! {
        opened = opening => opened.map_err(Ran::NotStarted),
        () = sleep_until(deadline) => Err(Ran::Unanswered(format!(
            "the host started no shell within {} s",
            patience.unwrap_or_default().as_secs()
        ))),
        () = cancel.cancelled() => Err(Ran::Ended(Exit::Cancelled)),
    }
}

/// Runs `remote` in a new shell on `master`, as [`Shell::run`] does, once the shell started
/// (within `patience`, as [`started`] says).
pub async fn run(
    master: &Arc<Session>,
    remote: Remote<'_>,
    patience: Option<Duration>,
    cancel: &CancellationToken,
    on_began: impl FnOnce(),
    on_line: impl FnMut(Output, String),
) -> Ran {
    match started(shell(master), patience, cancel).await {
        Ok(shell) => shell.run(remote, cancel, on_began, on_line).await,
        Err(ran) => ran,
    }
}

impl Shell {
    /// Sends `remote` to this shell, calls `on_began` once the host has it, and `on_line` with
    /// each line of output until it ends.
    pub async fn run(
        mut self,
        remote: Remote<'_>,
        cancel: &CancellationToken,
        on_began: impl FnOnce(),
        mut on_line: impl FnMut(Output, String),
    ) -> Ran {
        for (output, text) in self.early.drain(..) {
            on_line(output, text);
        }
        let mut sent = Vec::with_capacity(remote.script.len() + self.marker.len() + 8);
        sent.extend_from_slice(remote.script.as_bytes());
        if !remote.script.ends_with('\n') {
            sent.push(b'\n');
        }
        sent.extend_from_slice(format!("{}end\n", self.marker).as_bytes());
        if let Err(error) = self.stdin.write_all(&sent).await {
            return Ran::NotStarted(format!("the shell took no script: {error}"));
        }
        if let Some(text) = remote.stdin
            && let Err(error) = self.stdin.write_all(text).await
        {
            return Ran::Ended(Exit::Lost(format!("cannot send the upload: {error}")));
        }
        // The script reads to the end of its input, as from /dev/null when it has none.
        drop(self.stdin);

        let deadline = remote.timeout.map(|limit| Instant::now() + limit);
        let mut stop: Option<Exit> = None;
        let mut drain_until: Option<Instant> = None;
        let mut on_began = Some(on_began);
        let mut began = false;
        // Output first, then the exit status: openssh's wait() cuts off output still in flight.
        loop {
            tokio::select! {
                said = &mut self.began, if on_began.is_some() => {
                    began = said.is_ok();
                    if let Some(on_began) = on_began.take().filter(|_| began) {
                        on_began();
                    }
                }
                line = self.lines.recv() => match line {
                    Some((output, text)) => on_line(output, text),
                    None => break,
                },
                () = cancel.cancelled(), if stop.is_none() => stop = Some(Exit::Cancelled),
                () = sleep_until(deadline), if stop.is_none() => stop = remote.timeout.map(Exit::TimedOut),
                // A process that escaped the group may hold the output open; stop waiting for it.
                () = sleep_until(drain_until), if drain_until.is_some() => break,
            }
            // Stopped, and not yet broken out of: the drain begins with that.
            if stop.is_some() && drain_until.is_none() {
                break_out(&self.master, self.pid).await;
                drain_until = Some(Instant::now() + DRAIN);
            }
        }
        if let Some(reason) = stop {
            let _ = self.child.disconnect().await;
            return Ran::Ended(reason);
        }
        // The output may have ended before the word was heard.
        if let Some(on_began) = on_began
            && self.began.try_recv().is_ok()
        {
            began = true;
            on_began();
        }
        if !began {
            return Ran::NotStarted("the shell ended before it read the script".to_owned());
        }
        let waited = self.child.wait().await;
        self.lifeline.release().await;
        let code = match waited {
            Ok(status) => status.code(),
            // openssh reads exit 127 as "command not found" for its own command line; here
            // it is the script's own exit code.
            Err(openssh::Error::Remote(error)) if error.kind() == std::io::ErrorKind::NotFound => {
                Some(127)
            }
            Err(openssh::Error::RemoteProcessTerminated) => None,
            Err(error) => return Ran::Ended(Exit::Lost(cause_chain(&error))),
        };
        Ran::Ended(match code {
            Some(code) => Exit::Code(code),
            // No exit code: a signal ended the command, or the connection went away under it.
            None => match self.master.check().await {
                Ok(()) => Exit::Killed,
                Err(error) => Exit::Lost(cause_chain(&error)),
            },
        })
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Shell code that stops process group `pid`: TERM, then KILL if it is still there after a
/// grace period.
fn stop_group(pid: u32) -> String {
    // `kill -SIG -PGID` rather than `kill -SIG -- -PGID`: dash, Debian's sh, refuses `--`.
    format!(
        "kill -TERM -{pid} 2>/dev/null || exit 0; \
         for i in 1 2 3 4 5 6; do sleep 0.5; kill -0 -{pid} 2>/dev/null || exit 0; done; \
         kill -KILL -{pid} 2>/dev/null; exit 0"
    )
}

/// Stops the remote process group, over a channel of its own.
async fn break_out(master: &Session, pid: u32) {
    let script = stop_group(pid);
    // What the host prints (a login banner) is of no use here, and must not reach knit's own
    // terminal.
    let _ = master
        .raw_command(script)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
}

/// A line prefix no output of a command can guess: the shell's pid and word that it began
/// follow it on stderr, and its script ends at the line of it followed by `end`.
fn marker() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system gives random bytes");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("knit-{hex}:")
}

/// Where a shell's own lines on stderr go: its pid, and the word that its script began.
struct Markers {
    marker: String,
    pid: Option<oneshot::Sender<u32>>,
    began: Option<oneshot::Sender<()>>,
}

impl Markers {
    /// Takes `line` if it is one of the shell's own.
    fn take(&mut self, line: &str) -> bool {
        let Some(said) = line.trim().strip_prefix(self.marker.as_str()) else {
            return false;
        };
        if said == "go"
            && let Some(began) = self.began.take()
        {
            let _ = began.send(());
            return true;
        }
        if let Ok(number) = said.parse()
            && let Some(pid) = self.pid.take()
        {
            let _ = pid.send(number);
            return true;
        }
        false
    }
}

/// The longest line sent as one: a longer one is sent in parts of this many bytes, so a command
/// that prints without line breaks cannot fill knit's memory.
pub const LONGEST_LINE: u64 = 64 * 1024;

/// Sends each line of `source` to `lines`, but the shell's own (`markers`).
async fn read_lines(
    source: impl AsyncRead + Unpin,
    output: Output,
    lines: mpsc::Sender<(Output, String)>,
    mut markers: Option<Markers>,
) {
    let mut reader = BufReader::new(source);
    let mut buffer = Vec::new();
    loop {
        buffer.clear();
        match (&mut reader)
            .take(LONGEST_LINE)
            .read_until(b'\n', &mut buffer)
            .await
        {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&buffer)
            .trim_end_matches(['\n', '\r'])
            .to_owned();
        if markers.as_mut().is_some_and(|markers| markers.take(&text)) {
            continue;
        }
        if lines.send((output, text)).await.is_err() {
            return;
        }
    }
}
