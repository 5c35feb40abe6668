//! The run engine: a plan's steps in order, each on all its hosts at once (up to the plan's
//! `parallel`), over one multiplexed SSH connection per host kept for the whole run
//! (`connections.rs`), each cell's commands in shells opened while the step before ran
//! (`cell.rs`, `shells.rs`). With rolling batches, each batch runs every step and its
//! `finally` steps before the next begins; this file is the rollout.
//!
//! A step that fails on any host stops the scenario unless the step says to continue; the
//! remaining steps (and batches) are skipped and the `finally` steps run all the same. With
//! `max_fail_percentage`, a failed host drops out and the others go on, until the failed share
//! of the hosts reached passes it. A `once` step runs on
//! one host of each of its roles: the first, in host order, still in the run. A cancel stops the
//! commands running (their remote process groups are killed) and skips what is left but the
//! `finally` steps; a second cancel stops those too.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt;
use futures_util::future::Either;

use knit_shared::rollout::over_threshold;
use knit_shared::{CellStatus, RunStatus, Stream};
use tokio::sync::Semaphore;

use super::Journal;
use super::cancel::Cancel;
use super::cell::run_job;
use super::connections::Hosts;
use super::shells::Underway;
use crate::clusters::{Drain, Job, Plan, Step};
use crate::ssh::{Identity, Pool};

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
                    () = cancel.cancelled() => {}
                }
            }
            if let Some(reason) = rollout.halted(cancel) {
                skip_batch(
                    plan,
                    number,
                    batch,
                    journal,
                    &format!("not started: {reason}"),
                );
                continue;
            }
            cancel.steps_again();
        }
        rollout.reached += batch.len();
        run_batch(plan, number, batch, hosts, journal, cancel, &mut rollout).await;
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

/// Every step of batch `number` on its hosts, then its `finally` steps.
async fn run_batch(
    plan: &Plan,
    number: usize,
    batch: &[usize],
    hosts: &Hosts<'_>,
    journal: &Journal,
    cancel: &Cancel,
    rollout: &mut Rollout,
) {
    for (index, step) in plan.steps.iter().enumerate() {
        let here = jobs_in_batch(step, number, batch);
        if here.is_empty() {
            continue;
        }
        // A host that failed stays out of the proxies; the others were never out.
        if matches!(step.drain, Some(Drain::Back(_)))
            && batch.iter().any(|host| rollout.failed_hosts.contains(host))
        {
            let reason = "a host of this batch failed: the batch stays out of the proxies";
            skip_jobs(plan, index, &here, journal, reason);
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

/// The jobs of `step` in batch `number`: those on the batch's hosts, or all of a [`Drain`]
/// step of this batch (the proxies' own), none of another batch's.
fn jobs_in_batch(step: &Step, number: usize, batch: &[usize]) -> Vec<Job> {
    match step.drain {
        Some(drain) if drain.batch() == number => step.jobs.clone(),
        Some(_) => Vec::new(),
        None => step.jobs_on(batch),
    }
}

/// Skips every cell of batch `number`, which does not start.
fn skip_batch(plan: &Plan, number: usize, batch: &[usize], journal: &Journal, reason: &str) {
    for (index, step) in plan.steps.iter().enumerate() {
        let here = jobs_in_batch(step, number, batch);
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
            match hosts.for_step(job.host).await {
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
