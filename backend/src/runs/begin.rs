//! A run's life, whatever it carries out: refused (frozen, line full, cluster held) or
//! recorded and audited; announced to its receivers; then in the background, its approval and
//! its turn in line waited for, its work done, its end recorded, measured and announced.

use std::sync::Arc;
use std::time::{Duration, Instant};

use knit_shared::{RunEventBody, RunStatus};

use super::journal::Written;
use super::{Active, Cancel, Journal, LAUNCH, MOST_WAITING, Mask, RunError, RunHeader, Runs};
use super::{Started, TURN_POLL};
use crate::notify::{Event, Receiver, Summary};
use crate::store::{Actor, NewRun, StoreError};

/// What the background part of a run needs to know of its header.
struct Waits {
    approval: Option<Duration>,
    wait: bool,
    cluster: String,
    receivers: Vec<Receiver>,
}

impl Runs {
    /// Records the run `header` describes under its cluster's lock, and carries out `work` in
    /// the background; `work` records its events in the journal and says how the run ended.
    pub async fn begin<W, F>(
        self: &Arc<Self>,
        header: RunHeader<'_>,
        actor: &Actor,
        mask: Mask,
        work: W,
    ) -> Result<Started, RunError>
    where
        W: FnOnce(Journal, Cancel) -> F + Send + 'static,
        F: Future<Output = RunStatus> + Send + 'static,
    {
        let id = self.claim(&header, actor).await?;
        let summary = self.announce(id, &header, actor);
        let cap = self.log_cap.load(std::sync::atomic::Ordering::Relaxed);
        let (journal, live, writer) = Journal::open(self.store.clone(), id, mask, cap);
        let cancel = Cancel::default();
        let watcher = live.subscribe();
        let active = Active {
            cancel: cancel.clone(),
            live,
            cancellable: header.scenario != LAUNCH,
        };
        self.lock_active().insert(id, active);
        let waits = Waits {
            approval: header.approval,
            wait: header.wait,
            cluster: header.cluster.to_owned(),
            receivers: header.receivers.to_vec(),
        };
        let runs = Arc::clone(self);
        let began = Instant::now();
        let done = self.tasks.spawn(async move {
            let status = runs
                .carry_out(id, &waits, &summary, journal, cancel, work)
                .await;
            runs.finish(id, status, writer, &waits, summary, began)
                .await
        });
        Ok(Started {
            id,
            live: watcher,
            done,
        })
    }

    /// The run's number, once it is recorded as running, waiting in line or awaiting
    /// approval; every answer, refusals too, is audited.
    async fn claim(&self, header: &RunHeader<'_>, actor: &Actor) -> Result<i64, RunError> {
        let target = format!("{}/{}", header.cluster, header.scenario);
        let audit = |outcome: String| actor.did("run.start", target.clone(), outcome);
        if let Some(refused) = self.refusal(header).await? {
            self.store
                .record(&audit(format!("refused: {refused}")))
                .await?;
            return Err(refused);
        }
        let new_run = NewRun {
            cluster: header.cluster,
            scenario: header.scenario,
            actor: &actor.name,
            plan: header.shape,
            params: header.params,
            retry_of: header.retry_of,
        };
        let (claimed, queued) = match (header.approval, header.wait) {
            (Some(_), _) => (
                Ok(self.store.await_approval(&new_run).await?),
                ", awaiting approval",
            ),
            (None, true) => (
                Ok(self.store.enqueue_run(&new_run).await?),
                ", waiting in line",
            ),
            (None, false) => (self.store.start_run(&new_run).await?, ""),
        };
        match claimed {
            Ok(id) => {
                self.store
                    .record(&audit(format!("run {id}{queued}")))
                    .await?;
                Ok(id)
            }
            Err(holder) => {
                let refused = RunError::Locked(Box::new(holder));
                self.store
                    .record(&audit(format!("refused: {refused}")))
                    .await?;
                Err(refused)
            }
        }
    }

    /// Why the run `header` describes may neither start nor wait now, if so: its cluster is
    /// frozen, or it would wait where `MOST_WAITING` runs wait already.
    async fn refusal(&self, header: &RunHeader<'_>) -> Result<Option<RunError>, StoreError> {
        let cluster = header.cluster.to_owned();
        if let Some(freeze) = self.store.freeze_of(&cluster).await? {
            return Ok(Some(RunError::Frozen { cluster, freeze }));
        }
        if header.approval.is_some() || header.wait {
            let waiting = self.store.runs_waiting_on(&cluster).await?;
            if waiting >= MOST_WAITING {
                return Ok(Some(RunError::LineFull { cluster, waiting }));
            }
        }
        Ok(None)
    }

    /// Tells the run's receivers it started, or that it awaits an approver; the summary is
    /// what its later messages are made from.
    fn announce(&self, id: i64, header: &RunHeader<'_>, actor: &Actor) -> Summary {
        let status = if header.approval.is_some() {
            RunStatus::AwaitingApproval
        } else {
            RunStatus::Running
        };
        let summary = Summary {
            event: "",
            run: id,
            cluster: header.cluster.to_owned(),
            scenario: header.scenario.to_owned(),
            params: header.params.clone(),
            by: actor.name.clone(),
            status: status.as_str().to_owned(),
            hosts: header.shape.hosts.len(),
            hosts_failed: 0,
            duration_ms: None,
            link: self.notifier.link(id),
        };
        let event = if header.approval.is_some() {
            Event::Approval
        } else {
            Event::Start
        };
        self.notifier.send(header.receivers, event, &summary);
        summary
    }

    /// Waits for the run's approval and its turn, when it needs them, then does `work`; how
    /// the run ended, its `RunFinished` event recorded.
    async fn carry_out<W, F>(
        &self,
        id: i64,
        waits: &Waits,
        summary: &Summary,
        journal: Journal,
        cancel: Cancel,
        work: W,
    ) -> RunStatus
    where
        W: FnOnce(Journal, Cancel) -> F,
        F: Future<Output = RunStatus>,
    {
        let answer = match waits.approval {
            Some(timeout) => self.wait_approval(id, timeout, &cancel).await,
            None => RunStatus::Queued,
        };
        if waits.approval.is_some() && answer == RunStatus::Queued {
            let approved = Summary {
                status: RunStatus::Running.as_str().to_owned(),
                ..summary.clone()
            };
            self.notifier
                .send(&waits.receivers, Event::Start, &approved);
        }
        let in_line = waits.approval.is_some() || waits.wait;
        let status = match answer {
            RunStatus::Queued if in_line && !self.wait_turn(id, &waits.cluster, &cancel).await => {
                // Cancelled in line, or the store failed: the run never started.
                RunStatus::Cancelled
            }
            RunStatus::Queued => work(journal.clone(), cancel).await,
            refused => refused,
        };
        journal.record(RunEventBody::RunFinished { status });
        status
    }

    /// Records the run's end once its log is written, frees it, and tells the metrics and the
    /// receivers.
    async fn finish(
        &self,
        id: i64,
        status: RunStatus,
        writer: tokio::task::JoinHandle<Written>,
        waits: &Waits,
        summary: Summary,
        began: Instant,
    ) -> RunStatus {
        let hosts_failed = match writer.await {
            Ok(written) => {
                if let Err(error) = written.outcome {
                    tracing::error!(run = id, %error, "the run's log is incomplete");
                }
                written.failed_hosts
            }
            Err(_) => 0,
        };
        if let Err(error) = self.store.finish_run(id, status).await {
            tracing::error!(run = id, %error, "cannot record the end of the run");
        }
        self.lock_active().remove(&id);
        let took = began.elapsed();
        crate::metrics::run_ended(
            &summary.cluster,
            &summary.scenario,
            status.as_str(),
            took,
            hosts_failed,
        );
        let ended = Summary {
            status: status.as_str().to_owned(),
            hosts_failed,
            duration_ms: Some(u64::try_from(took.as_millis()).unwrap_or(u64::MAX)),
            ..summary
        };
        let event = if status == RunStatus::Ok {
            Event::Success
        } else {
            Event::Failure
        };
        self.notifier.send(&waits.receivers, event, &ended);
        status
    }

    /// Waits until an approver answers run `id`: `Queued` when approved (it then waits in
    /// line), `Rejected`, `Expired` after `timeout`, or `Cancelled`.
    async fn wait_approval(&self, id: i64, timeout: Duration, cancel: &Cancel) -> RunStatus {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if cancel.is_cancelled() {
                return RunStatus::Cancelled;
            }
            match self.store.run(id).await {
                Ok(Some((run, _))) if run.status != RunStatus::AwaitingApproval => {
                    return run.status;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(run = id, %error, "cannot read the run's approval"),
            }
            if tokio::time::Instant::now() >= deadline {
                match self.store.expire(id).await {
                    Ok(true) => return RunStatus::Expired,
                    // Answered at the last moment: read it.
                    Ok(false) => continue,
                    Err(error) => {
                        tracing::warn!(run = id, %error, "cannot end the run as expired");
                        return RunStatus::Expired;
                    }
                }
            }
            tokio::select! {
                () = tokio::time::sleep(TURN_POLL) => {}
                () = cancel.cancelled() => {}
            }
        }
    }

    /// Waits until queued run `id` is first in line and `cluster` is free, and makes it the
    /// running one; false when it was cancelled first (or the store keeps failing). It tries
    /// at once, then each time the line's watcher says the line may move.
    async fn wait_turn(&self, id: i64, cluster: &str, cancel: &Cancel) -> bool {
        let wake = self.line.join(&self.store, cluster);
        let mut failures = 0;
        loop {
            if cancel.is_cancelled() {
                return false;
            }
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let failed = match self.store.promote_run(id, cluster).await {
                Ok(true) => return true,
                Ok(false) => {
                    failures = 0;
                    false
                }
                Err(error) => {
                    failures += 1;
                    tracing::warn!(run = id, %error, "cannot look whether the run's turn came");
                    if failures > 20 {
                        return false;
                    }
                    true
                }
            };
            if failed {
                tokio::select! {
                    () = tokio::time::sleep(TURN_POLL) => {}
                    () = cancel.cancelled() => {}
                }
            } else {
                tokio::select! {
                    () = woken => {}
                    () = cancel.cancelled() => {}
                }
            }
        }
    }
}
