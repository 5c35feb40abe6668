//! The run engine: a plan's steps in order, each on all its hosts at once (up to the plan's
//! `parallel`), over one multiplexed SSH connection per host kept for the whole run, each
//! command in a shell opened while the step before ran (`shells.rs`). With rolling batches,
//! each batch runs every step and its `finally` steps before the next begins.
//!
//! A step that fails on any host stops the scenario unless the step says to continue; the
//! remaining steps (and batches) are skipped and the `finally` steps run all the same. With
//! `max_fail_percentage`, a failed host drops out and the others go on, until the failed share
//! of the hosts reached passes it. A `once` step runs on
//! one host of each of its roles: the first, in host order, still in the run. A cancel stops the
//! commands running (their remote process groups are killed) and skips what is left but the
//! `finally` steps; a second cancel stops those too.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use futures_util::future::Either;

use knit_shared::rollout::over_threshold;
use knit_shared::{CellStatus, RunStatus, Stream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::Journal;
use super::shells::{Shells, Underway};
use crate::clusters::{Command, Host, Job, Plan, Step, file_action};
use crate::ssh::exec::{self, Exit, Output, Ran, Remote};
use crate::ssh::{Connection, Identity, Pool, SshError};

/// Stops a run: the first cancel stops the steps, the next (or any once the `finally` steps
/// have begun) stops those too.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    steps: CancellationToken,
    finally: CancellationToken,
    in_finally: Arc<std::sync::atomic::AtomicBool>,
}

impl Cancel {
    pub fn cancel(&self) {
        if self.steps.is_cancelled() || self.in_finally.load(std::sync::atomic::Ordering::SeqCst) {
            self.finally.cancel();
        }
        self.steps.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.steps.is_cancelled()
    }

    /// Resolves at the first cancel.
    pub async fn cancelled(&self) {
        self.steps.cancelled().await;
    }

    /// A new batch begins with its steps: a cancel stops them first, as in the first batch.
    fn steps_again(&self) {
        self.in_finally
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    fn token(&self, finally: bool) -> &CancellationToken {
        if finally {
            self.in_finally
                .store(true, std::sync::atomic::Ordering::SeqCst);
            &self.finally
        } else {
            &self.steps
        }
    }
}

/// Runs `plan` to its end and says how it ended; every event goes to `journal`.
pub async fn execute(
    plan: &Plan,
    identity: &Identity,
    journal: &Journal,
    cancel: &Cancel,
    pool: &Pool,
) -> RunStatus {
    let hosts = Hosts::new(plan, identity, pool);
    let batches = run_batches(plan, &hosts, journal, cancel);
    // Every host is connected to from the start, not at its first step, so that a host whose
    // first step comes later is ready by then; the run does not wait for this to end.
    let order: Vec<usize> = plan.batches.iter().flatten().copied().collect();
    let connecting =
        futures_util::stream::iter(order).for_each_concurrent(plan.parallel.max(1), |host| {
            let hosts = &hosts;
            async move {
                let _ = hosts.connection(host).await;
            }
        });
    let status =
        match futures_util::future::select(std::pin::pin!(batches), std::pin::pin!(connecting))
            .await
        {
            Either::Left((status, _)) => status,
            Either::Right(((), batches)) => batches.await,
        };
    hosts.shells.close().await;
    status
}

/// Every batch of `plan`, one after the other.
async fn run_batches(
    plan: &Plan,
    hosts: &Hosts<'_>,
    journal: &Journal,
    cancel: &Cancel,
) -> RunStatus {
    let mut rollout = Rollout::default();
    for (number, batch) in plan.batches.iter().enumerate() {
        if number > 0 {
            if let Some(pause) = plan.batch_pause
                && rollout.halted(cancel).is_none()
            {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = cancel.steps.cancelled() => {}
                }
            }
            if let Some(reason) = rollout.halted(cancel) {
                skip_batch(plan, batch, journal, &format!("not started: {reason}"));
                continue;
            }
            cancel.steps_again();
        }
        rollout.reached += batch.len();
        run_batch(plan, batch, hosts, journal, cancel, &mut rollout).await;
    }
    if cancel.is_cancelled() {
        RunStatus::Cancelled
    } else if rollout.failed {
        RunStatus::Failed
    } else {
        RunStatus::Ok
    }
}

/// Where a run stands between its steps and batches.
#[derive(Default)]
struct Rollout {
    /// Hosts where a step failed (a `once` step looks past them).
    failed_hosts: HashSet<usize>,
    /// With `max_fail_percentage`: hosts out of the run, their later steps skipped.
    dropped: HashSet<usize>,
    failed: bool,
    /// Why the remaining steps, and batches, do not run.
    stopped_by: Option<String>,
    /// Where each `once` step ran, for the batches after.
    once_ran: HashMap<usize, String>,
    /// Hosts of the batches begun so far.
    reached: usize,
}

impl Rollout {
    fn halted(&self, cancel: &Cancel) -> Option<String> {
        match &self.stopped_by {
            Some(reason) => Some(reason.clone()),
            None if cancel.is_cancelled() => Some("the run was cancelled".to_owned()),
            None => None,
        }
    }
}

/// Every step of one batch on its hosts, then its `finally` steps.
async fn run_batch(
    plan: &Plan,
    batch: &[usize],
    hosts: &Hosts<'_>,
    journal: &Journal,
    cancel: &Cancel,
    rollout: &mut Rollout,
) {
    for (index, step) in plan.steps.iter().enumerate() {
        let here = step.jobs_on(batch);
        if here.is_empty() {
            continue;
        }
        let token = cancel.token(step.finally);
        if cancel.is_cancelled() && !step.finally && rollout.stopped_by.is_none() {
            rollout.stopped_by = Some("the run was cancelled".to_owned());
        }
        let skip = match &rollout.stopped_by {
            Some(reason) if !step.finally => Some(reason.clone()),
            _ if token.is_cancelled() => Some("the run was cancelled".to_owned()),
            _ => None,
        };
        if let Some(reason) = skip {
            skip_jobs(plan, index, &here, journal, &reason);
            continue;
        }
        let jobs = if step.once {
            if let Some(reason) = rollout.once_ran.get(&index) {
                skip_jobs(plan, index, &here, journal, reason);
                continue;
            }
            let in_batch = Step {
                jobs: here,
                ..step.clone()
            };
            let passed_over: HashSet<usize> = rollout
                .failed_hosts
                .union(&rollout.dropped)
                .copied()
                .collect();
            let chosen = choose_once(index, &in_batch, plan, hosts, &passed_over, journal).await;
            rollout.failed |= chosen.passed_over_failed;
            rollout
                .failed_hosts
                .extend(chosen.unreachable.iter().copied());
            if plan.max_fail_percentage.is_some() {
                rollout.dropped.extend(chosen.unreachable.iter().copied());
            }
            rollout.once_ran.insert(index, chosen.reason);
            chosen.jobs
        } else {
            let (out, jobs): (Vec<Job>, Vec<Job>) = here
                .into_iter()
                .partition(|job| !step.finally && rollout.dropped.contains(&job.host));
            skip_jobs(plan, index, &out, journal, "failed before: out of the run");
            jobs
        };
        let step_began = std::time::Instant::now();
        let slots = Semaphore::new(plan.parallel.max(1));
        let underway = Underway::new(&hosts.shells, jobs.len().min(plan.parallel.max(1)));
        let mut cells = Vec::with_capacity(jobs.len());
        for job in &jobs {
            let (slots, underway) = (&slots, &underway);
            cells.push(async move {
                let _slot = slots.acquire().await;
                let status = run_job(index, job, hosts, journal, token, underway).await;
                underway.ended(job.host);
                (job.host, status)
            });
        }
        let cells = futures_util::future::join_all(cells).await;
        crate::metrics::step_ended(step_began.elapsed());
        let failed_here: Vec<usize> = cells
            .iter()
            .filter(|(_, status)| *status == CellStatus::Failed)
            .map(|(host, _)| *host)
            .collect();
        rollout.failed_hosts.extend(failed_here.iter().copied());
        let step_failed = !failed_here.is_empty() || (step.once && jobs.is_empty());
        rollout.failed |= step_failed;
        match plan.max_fail_percentage {
            None => {
                if step_failed && !step.continue_on_failure && rollout.stopped_by.is_none() {
                    rollout.stopped_by = Some(format!("{} failed", step.name));
                }
            }
            Some(share) => {
                if !step.continue_on_failure && !step.finally {
                    rollout.dropped.extend(failed_here.iter().copied());
                }
                let dropped = rollout.dropped.len();
                if over_threshold(dropped, rollout.reached, share) && rollout.stopped_by.is_none() {
                    rollout.stopped_by = Some(format!(
                        "{dropped} of {} hosts failed, more than max_fail_percentage {share} allows",
                        rollout.reached
                    ));
                }
            }
        }
    }
}

/// Skips the cells of `jobs` in step `index`, saying why.
fn skip_jobs(plan: &Plan, index: usize, jobs: &[Job], journal: &Journal, reason: &str) {
    for job in jobs {
        let host = &plan.hosts[job.host].name;
        journal.finished(
            index,
            host,
            CellStatus::Skipped,
            None,
            Some(reason.to_owned()),
        );
    }
}

/// Skips every cell of a batch that does not start.
fn skip_batch(plan: &Plan, batch: &[usize], journal: &Journal, reason: &str) {
    for (index, step) in plan.steps.iter().enumerate() {
        let here = step.jobs_on(batch);
        skip_jobs(plan, index, &here, journal, reason);
    }
}

/// The jobs a `once` step runs, and what choosing them found.
struct Chosen {
    jobs: Vec<Job>,
    /// Where it ran, as its other cells say.
    reason: String,
    /// Hosts passed over because they could not be reached (their cells failed).
    unreachable: Vec<usize>,
    passed_over_failed: bool,
}

/// For each role of a `once` step, the first host (in host order) that is still in the run: not
/// failed before, reachable now. The chosen hosts run only their chosen roles' commands; every
/// other host of the step is skipped, saying where the step ran.
async fn choose_once(
    index: usize,
    step: &Step,
    plan: &Plan,
    hosts: &Hosts<'_>,
    failed_hosts: &HashSet<usize>,
    journal: &Journal,
) -> Chosen {
    let mut roles: Vec<&str> = Vec::new();
    for command in step.jobs.iter().flat_map(|job| &job.commands) {
        if !roles.contains(&command.role()) {
            roles.push(command.role());
        }
    }
    let mut chosen: Vec<(usize, Vec<&str>)> = Vec::new();
    let mut unreachable = Vec::new();
    for role in &roles {
        for job in step.jobs.iter().filter(|job| job.has_role(role)) {
            if failed_hosts.contains(&job.host) || unreachable.contains(&job.host) {
                continue;
            }
            if let Some((_, with)) = chosen.iter_mut().find(|(host, _)| *host == job.host) {
                with.push(role);
                break;
            }
            match hosts.session(job.host).await {
                Ok(_) => {
                    chosen.push((job.host, vec![role]));
                    break;
                }
                Err((first, reason)) => {
                    unreachable.push(job.host);
                    let host = &plan.hosts[job.host].name;
                    if first {
                        journal.started(index, host);
                        journal.line(index, host, Stream::Knit, reason.clone());
                        journal.finished(index, host, CellStatus::Failed, None, Some(reason));
                    }
                }
            }
        }
    }
    let ran_on: Vec<String> = chosen
        .iter()
        .map(|(host, with)| match roles.len() {
            1 => plan.hosts[*host].name.clone(),
            _ => format!("{} on {}", with.join(", "), plan.hosts[*host].name),
        })
        .collect();
    let reason = if ran_on.is_empty() {
        "runs once: no host of its role could run it".to_owned()
    } else {
        format!("runs once: on {}", ran_on.join("; "))
    };
    let mut jobs = Vec::new();
    for job in &step.jobs {
        if let Some((_, with)) = chosen.iter().find(|(host, _)| *host == job.host) {
            jobs.push(Job {
                host: job.host,
                commands: job
                    .commands
                    .iter()
                    .filter(|command| with.contains(&command.role()))
                    .cloned()
                    .collect(),
            });
        } else if !unreachable.contains(&job.host) {
            let host = &plan.hosts[job.host].name;
            journal.finished(index, host, CellStatus::Skipped, None, Some(reason.clone()));
        }
    }
    Chosen {
        jobs,
        reason,
        passed_over_failed: !unreachable.is_empty(),
        unreachable,
    }
}

/// A host's connection, or why there is none.
type Made = Result<Arc<Connection>, String>;

/// The connection to each host, from the pool (kept from an earlier run, or new), taken at its
/// first step and used for the whole run; and the shell waiting for each host's next command.
struct Hosts<'a> {
    hosts: &'a [Host],
    identity: &'a Identity,
    pool: &'a Pool,
    /// Each host's connection once made (or why there is none).
    sessions: Vec<tokio::sync::Mutex<Option<Made>>>,
    shells: Shells,
    /// Hosts whose failure to connect a step has reported.
    reported: Vec<AtomicBool>,
    /// Hosts whose connection broke mid-run, and why.
    lost: Mutex<Vec<Option<String>>>,
}

impl<'a> Hosts<'a> {
    fn new(plan: &'a Plan, identity: &'a Identity, pool: &'a Pool) -> Self {
        let hosts = &plan.hosts;
        Self {
            hosts,
            identity,
            pool,
            sessions: hosts
                .iter()
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
            shells: Shells::new(plan),
            reported: hosts.iter().map(|_| AtomicBool::new(false)).collect(),
            lost: Mutex::new(vec![None; hosts.len()]),
        }
    }

    /// The host's session; `Err` says why there is none, and whether a step is the first to
    /// hear it (a failure of that step) or it was told before (a skip).
    async fn session(&self, index: usize) -> Result<Arc<Connection>, (bool, String)> {
        if let Some(reason) = self.lost_reason(index) {
            return Err((false, reason));
        }
        self.connection(index)
            .await
            .map_err(|reason| (!self.reported[index].swap(true, Ordering::SeqCst), reason))
    }

    /// The host's connection, made at the first ask (with a shell for its first command);
    /// later asks wait for it.
    async fn connection(&self, index: usize) -> Result<Arc<Connection>, String> {
        let mut made = self.sessions[index].lock().await;
        if let Some(made) = made.as_ref() {
            return made.clone();
        }
        let connection = self.connect(index).await;
        *made = Some(connection.clone());
        connection
    }

    /// A new connection in place of `ended`, on which no command could start. Another command
    /// of the host may have replaced it first.
    async fn reconnect(
        &self,
        index: usize,
        ended: &Arc<Connection>,
    ) -> Result<Arc<Connection>, String> {
        let mut made = self.sessions[index].lock().await;
        if let Some(Ok(current)) = made.as_ref()
            && !Arc::ptr_eq(current, ended)
        {
            return Ok(Arc::clone(current));
        }
        let target = &self.hosts[index].target;
        let connection =
            self.prepared(index, self.pool.replace(target, self.identity, ended).await);
        *made = Some(connection.clone());
        connection
    }

    async fn connect(&self, index: usize) -> Result<Arc<Connection>, String> {
        let target = &self.hosts[index].target;
        self.prepared(index, self.pool.session(target, self.identity).await)
    }

    /// `made`, with a shell opened on it for the host's next command.
    fn prepared(
        &self,
        index: usize,
        made: Result<Arc<Connection>, SshError>,
    ) -> Result<Arc<Connection>, String> {
        let connection = made.map_err(|error| error.to_string())?;
        self.shells.prepare(index, &connection);
        Ok(connection)
    }

    fn lost_reason(&self, index: usize) -> Option<String> {
        self.lost.lock().map_or(None, |lost| lost[index].clone())
    }

    fn mark_lost(&self, index: usize, reason: String) {
        if let Ok(mut lost) = self.lost.lock() {
            lost[index] = Some(reason);
        }
    }
}

/// One cell: the job's commands on its host, in order, until one fails.
async fn run_job(
    step: usize,
    job: &Job,
    hosts: &Hosts<'_>,
    journal: &Journal,
    cancel: &CancellationToken,
    underway: &Underway<'_>,
) -> CellStatus {
    let host = &hosts.hosts[job.host].name;
    journal.started(step, host);
    let mut session = match hosts.session(job.host).await {
        Ok(session) => session,
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
        let mut ran = match hosts.shells.take(job.host, &session, cancel).await {
            Ok(shell) => {
                if position > 0 {
                    hosts.shells.prepare(job.host, &session);
                }
                let on_began = || began(&session);
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
            let on_began = || began(&session);
            let patience = Some(exec::SHELL_START);
            let (session, remote) = (session.session(), remote.clone());
            ran = exec::run(session, remote, patience, cancel, on_began, &mut on_line).await;
        }
        if let Ran::NotStarted(reason) | Ran::Unanswered(reason) = &ran {
            let text = format!("{reason}; running it on a new connection");
            journal.line(step, host, Stream::Knit, text);
            match hosts.reconnect(job.host, &session).await {
                Ok(connection) => {
                    session = connection;
                    let on_began = || began(&session);
                    let session = session.session();
                    ran = exec::run(session, remote, None, cancel, on_began, &mut on_line).await;
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
