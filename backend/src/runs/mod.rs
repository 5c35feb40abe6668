//! Runs: starting a plan under the cluster's lock, recording everything it does, letting people
//! watch and cancel it. The web server and the CLI both run scenarios through `Runs`.

mod approve;
mod cancel;
mod cell;
mod connections;
mod engine;
mod fleet;
mod follow;
mod freeze;
mod hosts;
mod journal;
mod launch;
mod line;
pub mod log;
mod mask;
mod operators;
pub mod retention;
mod retry;
pub mod schedules;
mod shells;
mod start;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use knit_shared::{ClusterList, RunEvent, RunEventBody, RunPlan, RunQuery, RunStatus, RunSummary};
use tokio::sync::broadcast;
use tokio_util::task::TaskTracker;

pub use approve::ApproveError;
pub use cancel::Cancel;
pub use cancel::CancelError;
pub use fleet::Fleet;
pub use freeze::FreezeError;
pub use hosts::{HostsError, machine_hosts, needs_ec2};
pub use journal::Journal;
pub use launch::LAUNCH;
pub use mask::Mask;
pub use retry::RetryError;
pub use start::{Standing, StartError};

use crate::clusters::{Definition, Library, Plan};
use crate::notify::{self, Event, Notifier, Receiver, Summary};
use crate::open_files;
use crate::ssh::{Identity, KeyExchange, KnownHosts, Pool};
use crate::store::{Actor, NewRun, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "run {} by {} ({}) is {} on {} since {}; wait for it (or in line) or cancel it",
        .0.id, .0.actor, .0.scenario, doing(.0.status), .0.cluster, .0.started_at
    )]
    Locked(Box<RunSummary>),
    #[error(
        "cluster {cluster} is frozen by {} since {}: {}; no run starts until it is unfrozen",
        .freeze.by, .freeze.since, .freeze.message
    )]
    Frozen {
        cluster: String,
        freeze: knit_shared::Freeze,
    },
    #[error(
        "this run may hold {needed} files open at once ({hosts} hosts at work together), more than \
         the {limit} knit may open: raise that limit (`ulimit -n`, or LimitNOFILE= in knit's \
         systemd unit) or lower `parallel` in [cluster]"
    )]
    TooManyFiles {
        needed: u64,
        limit: u64,
        hosts: usize,
    },
    #[error(
        "{waiting} runs already wait on cluster {cluster} (in line or for an approver), the \
         most knit keeps: wait for some to start, or cancel some"
    )]
    LineFull { cluster: String, waiting: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The most output a run's stored log keeps unless the server says otherwise, in MB.
pub const LOG_CAP_MB: u64 = 100;

/// The most runs that may wait on one cluster, in line or for an approver: a script that
/// starts runs in a loop fills no database.
pub const MOST_WAITING: usize = 50;

/// How often a run waiting in line looks whether its turn came.
const TURN_POLL: std::time::Duration = std::time::Duration::from_millis(300);

/// What a run that holds its cluster does, in words.
fn doing(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Queued => "waiting in line",
        _ => "in progress",
    }
}

/// A run being carried out by this process.
#[derive(Debug)]
struct Active {
    cancel: Cancel,
    live: broadcast::Sender<RunEvent>,
    /// A launch does not watch `cancel`: its EC2 calls are short and each leaves EC2 in a
    /// state the next launch builds on, so it is always let finish.
    cancellable: bool,
}

/// What a run is, as recorded when it starts.
#[derive(Debug, Clone, Copy)]
pub struct RunHeader<'a> {
    pub cluster: &'a str,
    pub scenario: &'a str,
    /// Its steps and hosts.
    pub shape: &'a RunPlan,
    /// Its parameters' values as they may be shown (secret ones hidden).
    pub params: &'a BTreeMap<String, String>,
    /// The run it retries.
    pub retry_of: Option<i64>,
    /// Wait in line while another run holds the cluster, instead of being refused.
    pub wait: bool,
    /// How long it waits for an approver, when its scenario needs approval.
    pub approval: Option<std::time::Duration>,
    /// Who hears of it (`[[cluster.notify]]`).
    pub receivers: &'a [Receiver],
}

/// What asking to cancel a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Its commands are being stopped.
    Cancelling,
    /// This process does not carry it out (it ended, or another process runs it).
    NotHere,
    /// It cannot be cancelled (a launch).
    NotCancellable,
}

/// The runs of this process, and the store they are recorded in.
#[derive(Debug)]
pub struct Runs {
    store: Store,
    fleet: Fleet,
    known_hosts: KnownHosts,
    /// Connections kept between runs.
    pool: Arc<Pool>,
    notifier: Notifier,
    active: Mutex<HashMap<i64, Active>>,
    tasks: TaskTracker,
    line: Arc<line::Line>,
    /// The most bytes of output a run's stored log keeps.
    log_cap: std::sync::atomic::AtomicU64,
}

/// A run that has started: its number, and its end.
#[derive(Debug)]
pub struct Started {
    pub id: i64,
    pub live: broadcast::Receiver<RunEvent>,
    pub done: tokio::task::JoinHandle<RunStatus>,
}

impl Runs {
    /// Runs of the clusters of `fleet` that verify host keys against `known_hosts`. Runs left
    /// `running` by a process that has gone are marked interrupted first.
    pub async fn open(
        store: Store,
        fleet: Fleet,
        known_hosts: KnownHosts,
    ) -> Result<Arc<Self>, StoreError> {
        Self::open_with(store, fleet, known_hosts, Pool::default()).await
    }

    /// The same, keeping connections in `pool`.
    pub async fn open_with(
        store: Store,
        fleet: Fleet,
        known_hosts: KnownHosts,
        pool: Pool,
    ) -> Result<Arc<Self>, StoreError> {
        store.mark_interrupted_runs().await?;
        Ok(Arc::new(Self {
            notifier: Notifier::new(store.clone()),
            store,
            fleet,
            known_hosts,
            pool: Arc::new(pool),
            active: Mutex::new(HashMap::new()),
            tasks: TaskTracker::new(),
            line: Arc::default(),
            log_cap: (LOG_CAP_MB * 1_000_000).into(),
        }))
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Where the runs find their clusters.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// Runs started from now on keep at most `bytes` of output in their stored log.
    pub fn cap_logs_at(&self, bytes: u64) {
        self.log_cap
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many SSH connections are kept for later runs.
    pub fn connections_kept(&self) -> usize {
        self.pool.kept()
    }

    /// Who tells the receivers of runs.
    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    /// Takes the cluster's lock and starts `plan` in the background.
    pub async fn start(
        self: &Arc<Self>,
        definition: &Definition,
        plan: Plan,
        actor: &Actor,
    ) -> Result<Started, RunError> {
        let together = plan.parallel.min(plan.hosts.len());
        let needed = open_files::needed_for(together);
        if let Some(limit) = open_files::limit().filter(|limit| *limit < needed) {
            return Err(RunError::TooManyFiles {
                needed,
                limit,
                hosts: together,
            });
        }
        let identity = identity_for(definition, &self.known_hosts);
        let (cluster, scenario, shape) =
            (plan.cluster.clone(), plan.scenario.clone(), plan.shape());
        let shown = plan.shown_params();
        let receivers = notify::receivers(&definition.file.cluster);
        let mask = Mask::with_declared(
            definition.secret_values(Library::builtin()),
            plan.secret_params(),
        );
        let header = RunHeader {
            cluster: &cluster,
            scenario: &scenario,
            shape: &shape,
            params: &shown,
            retry_of: plan.retry_of,
            wait: plan.wait,
            approval: plan.approval,
            receivers: &receivers,
        };
        let pool = Arc::clone(&self.pool);
        self.begin(header, actor, mask, move |journal, cancel| async move {
            engine::execute(&plan, &identity, &journal, &cancel, &pool).await
        })
        .await
    }

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
        let RunHeader {
            cluster, scenario, ..
        } = header;
        if let Some(refused) = self.refusal(&header).await? {
            let note = format!("refused: {refused}");
            self.store
                .record(&actor.did("run.start", format!("{cluster}/{scenario}"), note))
                .await?;
            return Err(refused);
        }
        let new_run = NewRun {
            cluster,
            scenario,
            actor: &actor.name,
            plan: header.shape,
            params: header.params,
            retry_of: header.retry_of,
        };
        let claimed = match (header.approval, header.wait) {
            (Some(_), _) => Ok(self.store.await_approval(&new_run).await?),
            (None, true) => Ok(self.store.enqueue_run(&new_run).await?),
            (None, false) => self.store.start_run(&new_run).await?,
        };
        let audit =
            |outcome: String| actor.did("run.start", format!("{cluster}/{scenario}"), outcome);
        let id = match claimed {
            Ok(id) => id,
            Err(holder) => {
                let refused = RunError::Locked(Box::new(holder));
                self.store
                    .record(&audit(format!("refused: {refused}")))
                    .await?;
                return Err(refused);
            }
        };
        let queued = match (header.approval, header.wait) {
            (Some(_), _) => ", awaiting approval",
            (None, true) => ", waiting in line",
            (None, false) => "",
        };
        self.store
            .record(&audit(format!("run {id}{queued}")))
            .await?;
        let receivers = header.receivers.to_vec();
        let summary = Summary {
            event: "",
            run: id,
            cluster: cluster.to_owned(),
            scenario: scenario.to_owned(),
            params: header.params.clone(),
            by: actor.name.clone(),
            status: if header.approval.is_some() {
                RunStatus::AwaitingApproval
            } else {
                RunStatus::Running
            }
            .as_str()
            .to_owned(),
            hosts: header.shape.hosts.len(),
            hosts_failed: 0,
            duration_ms: None,
            link: self.notifier.link(id),
        };
        let began = std::time::Instant::now();
        if header.approval.is_some() {
            self.notifier.send(&receivers, Event::Approval, &summary);
        } else {
            self.notifier.send(&receivers, Event::Start, &summary);
        }

        let cap = self.log_cap.load(std::sync::atomic::Ordering::Relaxed);
        let (journal, live, writer) = Journal::open(self.store.clone(), id, mask, cap);
        let cancel = Cancel::default();
        let watcher = live.subscribe();
        self.lock_active().insert(
            id,
            Active {
                cancel: cancel.clone(),
                live,
                cancellable: scenario != LAUNCH,
            },
        );
        let runs = Arc::clone(self);
        let (approval, wait, cluster) = (header.approval, header.wait, cluster.to_owned());
        let done = self.tasks.spawn(async move {
            let answer = match approval {
                Some(timeout) => runs.wait_approval(id, timeout, &cancel).await,
                None => RunStatus::Queued,
            };
            let waits = approval.is_some() || wait;
            if approval.is_some() && answer == RunStatus::Queued {
                let approved = Summary {
                    status: RunStatus::Running.as_str().to_owned(),
                    ..summary.clone()
                };
                runs.notifier.send(&receivers, Event::Start, &approved);
            }
            let status = match answer {
                RunStatus::Queued if waits && !runs.wait_turn(id, &cluster, &cancel).await => {
                    // Cancelled in line, or the store failed: the run never started.
                    RunStatus::Cancelled
                }
                RunStatus::Queued => work(journal.clone(), cancel).await,
                refused => refused,
            };
            journal.record(RunEventBody::RunFinished { status });
            drop(journal);
            let hosts_failed = match writer.await {
                Ok(written) => {
                    if let Err(error) = written.outcome {
                        tracing::error!(run = id, %error, "the run's log is incomplete");
                    }
                    written.failed_hosts
                }
                Err(_) => 0,
            };
            if let Err(error) = runs.store.finish_run(id, status).await {
                tracing::error!(run = id, %error, "cannot record the end of the run");
            }
            runs.lock_active().remove(&id);
            crate::metrics::run_ended(
                &summary.cluster,
                &summary.scenario,
                status.as_str(),
                began.elapsed(),
                hosts_failed,
            );
            let ended = Summary {
                status: status.as_str().to_owned(),
                hosts_failed,
                duration_ms: Some(u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX)),
                ..summary
            };
            let event = if status == RunStatus::Ok {
                Event::Success
            } else {
                Event::Failure
            };
            runs.notifier.send(&receivers, event, &ended);
            status
        });
        Ok(Started {
            id,
            live: watcher,
            done,
        })
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

    /// The clusters, each with the run that holds it, its freeze and its schedules' times.
    pub async fn cluster_list(&self) -> Result<ClusterList, StoreError> {
        let mut list = self.fleet.list().await;
        let running = RunQuery {
            status: Some(RunStatus::Running.as_str().to_owned()),
            ..RunQuery::default()
        };
        for run in self.store.runs(&running, 1000).await? {
            if let Some(cluster) = list.clusters.iter_mut().find(|c| c.name == run.cluster) {
                cluster.active_run = Some(run);
            }
        }
        for (name, freeze) in self.store.freezes().await? {
            if let Some(cluster) = list.clusters.iter_mut().find(|c| c.name == name) {
                cluster.frozen = Some(freeze);
            }
        }
        for cluster in &mut list.clusters {
            for scenario in &mut cluster.scenarios {
                if let Some(schedule) = &mut scenario.schedule {
                    schedules::fill_in(&self.store, &cluster.name, &scenario.name, schedule)
                        .await?;
                }
            }
        }
        Ok(list)
    }

    /// Waits until an approver answers run `id`: `Queued` when approved (it then waits in
    /// line), `Rejected`, `Expired` after `timeout`, or `Cancelled`.
    async fn wait_approval(
        &self,
        id: i64,
        timeout: std::time::Duration,
        cancel: &Cancel,
    ) -> RunStatus {
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

    /// Cancels run `id` if this process carries it out and it can be cancelled.
    pub async fn cancel(&self, id: i64, actor: &Actor) -> Result<CancelOutcome, StoreError> {
        let active = self
            .lock_active()
            .get(&id)
            .map(|run| (run.cancel.clone(), run.cancellable));
        let (outcome, note) = match active {
            None => return Ok(CancelOutcome::NotHere),
            Some((_, false)) => (
                CancelOutcome::NotCancellable,
                "refused: a launch cannot be cancelled",
            ),
            Some((cancel, true)) => {
                cancel.cancel();
                (CancelOutcome::Cancelling, "requested")
            }
        };
        self.store
            .record(&actor.did("run.cancel", format!("run {id}"), note.to_owned()))
            .await?;
        Ok(outcome)
    }

    /// Events of run `id` from now on, while this process carries it out.
    pub fn watch(&self, id: i64) -> Option<broadcast::Receiver<RunEvent>> {
        self.lock_active().get(&id).map(|run| run.live.subscribe())
    }

    /// Cancels every run (steps and `finally` alike), waits until each has recorded its end,
    /// and closes the connections kept for later runs.
    pub async fn stop_all(&self) {
        for run in self.lock_active().values() {
            run.cancel.cancel();
            run.cancel.cancel();
        }
        self.tasks.close();
        self.tasks.wait().await;
        self.pool.close_all();
    }

    fn lock_active(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Active>> {
        // A panic while holding this map leaves it consistent: every change is one call.
        self.active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// How a run logs in to the cluster's hosts: its key file and bastion if it names them, the
/// user's SSH configuration otherwise, and always knit's known_hosts.
fn identity_for(definition: &Definition, known_hosts: &KnownHosts) -> Identity {
    let cluster = &definition.file.cluster;
    Identity {
        private_key: cluster.key_file.as_ref().map(Into::into),
        known_hosts: known_hosts.clone(),
        ssh_config: true,
        bastion: cluster.bastion.clone(),
        kex: KeyExchange::named(cluster.ssh_kex.as_ref().map(|kex| kex.get_ref().as_str())),
        idle: cluster.ssh_idle().unwrap_or(crate::ssh::KEPT_FOR),
    }
}
