//! One cell of a run: a job's commands on its host, in order, until one fails; each in the
//! shell waiting for it, on a new connection when the kept one ended under it, the log saying
//! what runs and what it printed.

use std::sync::Arc;

use knit_shared::{CellStatus, Stream};
use tokio_util::sync::CancellationToken;

use super::Journal;
use super::connections::Hosts;
use super::shells::Underway;
use crate::clusters::{Command, Job, file_action};
use crate::ssh::Connection;
use crate::ssh::exec::{self, Exit, Output, Ran, Remote};

/// One cell: the job's commands on its host, in order, until one fails.
pub(super) async fn run_job(
    step: usize,
    job: &Job,
    hosts: &Hosts<'_>,
    journal: &Journal,
    cancel: &CancellationToken,
    underway: &Underway<'_>,
) -> CellStatus {
    let host = &hosts.hosts[job.host].name;
    journal.started(step, host);
    let mut connection = match hosts.for_step(job.host).await {
        Ok(connection) => connection,
        Err((first, reason)) => {
            let (status, reason) = if first {
                (CellStatus::Failed, reason)
            } else {
                (CellStatus::Skipped, format!("host unreachable: {reason}"))
            };
            journal.line(step, host, Stream::Knit, reason.clone());
            journal.finished(step, host, status, None, Some(reason));
            return status;
        }
    };
    for (position, command) in job.commands.iter().enumerate() {
        let (remote, continue_on_error) = announce(command, |text| {
            journal.line(step, host, Stream::Knit, text);
        });
        let mut on_line = |output, text: String| {
            let stream = match output {
                Output::Stdout => Stream::Stdout,
                Output::Stderr => Stream::Stderr,
            };
            let reported = (output == Output::Stdout)
                .then(|| reported_value(&text))
                .flatten();
            if let Some((name, value)) = reported {
                let (name, value) = (name.to_owned(), value.to_owned());
                journal.line(step, host, stream, text);
                journal.output(step, host, &name, value);
            } else {
                journal.line(step, host, stream, text);
            }
        };
        // The cell's first command opens the host's next shell once the step is under way;
        // each later one, at once: its step is under way by then.
        let began = |connection: &Arc<Connection>| {
            if position == 0 {
                underway.began(job.host, connection);
            }
        };
        let mut ran = match hosts.shells.take(job.host, &connection, cancel).await {
            Ok(shell) => {
                if position > 0 {
                    hosts.shells.prepare(job.host, &connection);
                }
                let on_began = || began(&connection);
                shell
                    .run(remote.clone(), cancel, on_began, &mut on_line)
                    .await
            }
            Err(ran) => ran,
        };
        // Nothing ran. The shell waiting for it was gone: a new one runs it. None can start
        // either (the connection ended meanwhile), or none started in time (a kept connection
        // whose host went away, or a host slow to start shells): a new connection runs it,
        // waiting for its shell as long as SSH does, so slowness alone fails no host.
        if matches!(ran, Ran::NotStarted(_)) {
            let on_began = || began(&connection);
            let patience = Some(exec::SHELL_START);
            let (master, remote) = (connection.master(), remote.clone());
            ran = exec::run(master, remote, patience, cancel, on_began, &mut on_line).await;
        }
        if let Ran::NotStarted(reason) | Ran::Unanswered(reason) = &ran {
            let text = format!("{reason}; running it on a new connection");
            journal.line(step, host, Stream::Knit, text);
            match hosts.reconnect(job.host, &connection).await {
                Ok(new) => {
                    connection = new;
                    let on_began = || began(&connection);
                    let master = connection.master();
                    ran = exec::run(master, remote, None, cancel, on_began, &mut on_line).await;
                }
                Err(reason) => ran = Ran::NotStarted(reason),
            }
        }
        let exit = match ran {
            Ran::Ended(exit) => exit,
            Ran::NotStarted(reason) | Ran::Unanswered(reason) => Exit::Lost(reason),
        };
        let (status, code, reason) = match exit {
            Exit::Code(0) => continue,
            Exit::Code(code) if continue_on_error => {
                journal.line(
                    step,
                    host,
                    Stream::Knit,
                    format!("exit {code}, going on (continue_on_error)"),
                );
                continue;
            }
            Exit::Code(code) => (CellStatus::Failed, Some(code), format!("exit {code}")),
            Exit::Killed => (CellStatus::Failed, None, "killed by a signal".to_owned()),
            Exit::TimedOut(limit) => (
                CellStatus::Failed,
                None,
                format!("timed out after {} s", limit.as_secs()),
            ),
            Exit::Cancelled => (CellStatus::Cancelled, None, "cancelled".to_owned()),
            Exit::Lost(detail) => {
                let reason = format!("connection lost: {detail}");
                hosts.mark_lost(job.host, reason.clone());
                (CellStatus::Failed, None, reason)
            }
        };
        journal.line(step, host, Stream::Knit, reason.clone());
        journal.finished(step, host, status, code, Some(reason));
        return status;
    }
    journal.finished(step, host, CellStatus::Ok, None, None);
    CellStatus::Ok
}

/// A task reports a value for the run by printing `::knit-output name=value` on stdout: a name
/// of lowercase letters, digits and `_`, and the rest of the line.
fn reported_value(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.strip_prefix("::knit-output ")?.split_once('=')?;
    let well_formed = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    well_formed.then_some((name, value.trim_end()))
}

/// Says in the log what `command` is about to do, and returns what to run for it.
fn announce<'c>(command: &'c Command, mut say: impl FnMut(String)) -> (Remote<'c>, bool) {
    match command {
        Command::Run {
            role,
            script,
            continue_on_error,
            timeout,
        } => {
            for line in knit_shared::command_lines::announce(role, script) {
                say(line);
            }
            let remote = Remote {
                script,
                stdin: None,
                timeout: *timeout,
            };
            (remote, *continue_on_error)
        }
        Command::Upload {
            role,
            from,
            content,
            to,
            upload_script,
            ..
        } => {
            say(format!(
                "[{role}] {} ({} bytes)",
                file_action(from, to),
                content.len()
            ));
            let remote = Remote {
                script: upload_script,
                stdin: Some(content.as_bytes()),
                timeout: None,
            };
            (remote, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::reported_value;

    #[test]
    fn reported_values_are_read_from_their_marked_lines_only() {
        assert_eq!(
            reported_value("::knit-output release=20261130T051200Z-1a2b3c4"),
            Some(("release", "20261130T051200Z-1a2b3c4"))
        );
        assert_eq!(
            reported_value("::knit-output ref=a=b "),
            Some(("ref", "a=b"))
        );
        for other in [
            "release=1",
            "::knit-output =1",
            "::knit-output Bad=1",
            "::knit-output x",
        ] {
            assert_eq!(reported_value(other), None, "{other}");
        }
    }
}
