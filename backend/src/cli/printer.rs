//! A run's events printed as `knit <cluster> <scenario>` shows them, for a run of this process
//! or one followed through a server: output prefixed by host, a line per cell that ends.

use std::collections::BTreeMap;

use knit_shared::{CellStatus, RunEvent, RunEventBody, Stream, command_lines};

/// Prints a run's events as they come: output prefixed by host, a line per cell that ends.
pub struct Printer {
    steps: Vec<String>,
    /// Print each line of a script, not only its headline.
    verbose: bool,
    /// How each host fared: ok until a cell fails or is skipped for another reason than a
    /// step run once elsewhere.
    hosts: BTreeMap<String, HostOutcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOutcome {
    Ok,
    Failed,
    NotRun,
}

impl Printer {
    /// A printer of a run of `steps`; with `verbose`, scripts are printed whole.
    pub fn new(steps: Vec<String>, verbose: bool) -> Self {
        Self {
            steps,
            verbose,
            hosts: BTreeMap::new(),
        }
    }

    /// `5 hosts ok, 1 failed`, and how many did not run it all.
    pub fn summary(&self) -> String {
        let count = |outcome| self.hosts.values().filter(|o| **o == outcome).count();
        let ok = count(HostOutcome::Ok);
        let mut said = format!("{ok} host{} ok", if ok == 1 { "" } else { "s" });
        for (outcome, words) in [
            (HostOutcome::Failed, "failed"),
            (HostOutcome::NotRun, "not run to the end"),
        ] {
            if count(outcome) > 0 {
                said.push_str(&format!(", {} {words}", count(outcome)));
            }
        }
        said
    }

    fn note(&mut self, host: &str, status: CellStatus, reason: Option<&str>) {
        let outcome = match status {
            CellStatus::Failed => HostOutcome::Failed,
            CellStatus::Skipped if reason.is_some_and(|r| r.starts_with("runs once")) => {
                HostOutcome::Ok
            }
            CellStatus::Skipped | CellStatus::Cancelled => HostOutcome::NotRun,
            _ => HostOutcome::Ok,
        };
        let known = self.hosts.entry(host.to_owned()).or_insert(HostOutcome::Ok);
        if *known == HostOutcome::Ok || outcome == HostOutcome::Failed {
            *known = outcome.max_with(*known);
        }
    }
}

impl HostOutcome {
    /// The worse of two: failed over not run over ok.
    fn max_with(self, other: Self) -> Self {
        let rank = |outcome| match outcome {
            HostOutcome::Ok => 0,
            HostOutcome::NotRun => 1,
            HostOutcome::Failed => 2,
        };
        if rank(self) >= rank(other) {
            self
        } else {
            other
        }
    }
}

impl Printer {
    pub fn print(&mut self, event: &RunEvent) {
        match &event.body {
            RunEventBody::Line {
                host, stream, text, ..
            } => match stream {
                Stream::Stderr => eprintln!("{host} | {text}"),
                Stream::Knit if !self.verbose && command_lines::is_script_line(text) => {}
                Stream::Stdout | Stream::Knit => println!("{host} | {text}"),
            },
            RunEventBody::StepFinished {
                step,
                host,
                status,
                reason,
                ..
            } => {
                let word = match status {
                    CellStatus::Ok => "ok",
                    CellStatus::Failed => "FAILED",
                    CellStatus::Skipped => "skipped",
                    CellStatus::Cancelled => "cancelled",
                    CellStatus::Pending | CellStatus::Running => return,
                };
                self.note(host, *status, reason.as_deref());
                let total = self.steps.len();
                let name = self.steps.get(*step).map_or("?", String::as_str);
                let why = match (status, reason) {
                    (CellStatus::Skipped, Some(reason)) => format!(" ({reason})"),
                    _ => String::new(),
                };
                eprintln!("[{}/{total}] {name} on {host}: {word}{why}", step + 1);
            }
            // Reported values are lines of the output too, printed as such.
            RunEventBody::StepStarted { .. }
            | RunEventBody::Output { .. }
            | RunEventBody::RunFinished { .. } => {}
        }
    }
}
