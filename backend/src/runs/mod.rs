//! Runs: starting a plan under the cluster's lock, recording everything it does, letting people
//! watch and cancel it. The web server and the CLI both run scenarios through `Runs`.
//!
//! `Runs`'s methods, by what they are for: asking for a run (start.rs: `start_request`,
//! `plan_request`, `start`), a run's life from its claim to its end (begin.rs: `begin`), a
//! launch as a run (launch.rs), retries (retry.rs), approvals (approve.rs), freezes
//! (freeze.rs), cancelling (cancel.rs), reading and following a run (follow.rs); here, the
//! state they share, the clusters' list and stopping.

mod approve;
mod begin;
mod cancel;
mod cell;
mod connections;
mod diff;
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

use knit_shared::{ClusterList, RunEvent, RunPlan, RunQuery, RunStatus, RunSummary};
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

use crate::notify::{Notifier, Receiver};
use crate::ssh::{KnownHosts, Pool};
use crate::store::{Store, StoreError};

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
