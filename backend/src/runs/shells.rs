//! Shells opened ahead of their commands. Opening a channel and starting a login shell costs a
//! few milliseconds of CPU on both ends; paid as a step begins, it lands between the steps of
//! every host. So each host's next shell is opened while its current command runs, and a step
//! begins by sending scripts to shells that wait for them.
//!
//! A step's next shells open once it is under way (its first wave of cells has begun), not as
//! each cell begins: on hosts that share knit's CPU (or a bastion's), opening them would slow
//! the step's own starts. Within a cell of several commands, each opens the next one's at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clusters::Plan;
use crate::ssh::Connection;
use crate::ssh::exec::{self, Ran, Shell};

type Opening = JoinHandle<Result<Shell, String>>;

/// The shell waiting for each host's next command, if one was opened.
pub struct Shells {
    waiting: Vec<Mutex<Option<Opening>>>,
    /// The host's commands in the plan not yet begun: no shell waits past the last.
    to_come: Vec<AtomicUsize>,
}

impl Shells {
    pub fn new(plan: &Plan) -> Self {
        let mut to_come = vec![0; plan.hosts.len()];
        for job in plan.steps.iter().flat_map(|step| &step.jobs) {
            to_come[job.host] += job.commands.len();
        }
        Self {
            waiting: plan.hosts.iter().map(|_| Mutex::new(None)).collect(),
            to_come: to_come.into_iter().map(AtomicUsize::new).collect(),
        }
    }

    /// A started shell for the host's next command: the one waiting for it, else a new one;
    /// how it did not start otherwise (within [`exec::SHELL_START`]).
    pub async fn take(
        &self,
        host: usize,
        connection: &Connection,
        cancel: &CancellationToken,
    ) -> Result<Shell, Ran> {
        let _ = self.to_come[host].fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        });
        let patience = Some(exec::SHELL_START);
        let waiting = self.slot(host).take();
        let Some(mut opening) = waiting else {
            return exec::started(exec::shell(connection.master()), patience, cancel).await;
        };
        let joined = async {
            (&mut opening)
                .await
                .unwrap_or_else(|error| Err(error.to_string()))
        };
        let started = exec::started(joined, patience, cancel).await;
        // Given up on: its host went silent, and it holds the connection's master.
        opening.abort();
        started
    }

    /// Opens a shell for the host's next command, unless none is to come or one waits already.
    pub fn prepare(&self, host: usize, connection: &Connection) {
        if self.to_come[host].load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut waiting = self.slot(host);
        if waiting.is_none() {
            let master = Arc::clone(connection.master());
            *waiting = Some(tokio::spawn(async move { exec::shell(&master).await }));
        }
    }

    /// Ends the shells still waiting (for commands a failure or a cancel skipped), and stops
    /// those still opening (a host that stopped answering would hold the run's end). They hold
    /// their connection's master: one left behind would close a kept connection when it goes.
    pub async fn close(&self) {
        for host in 0..self.waiting.len() {
            let waiting = self.slot(host).take();
            if let Some(opening) = waiting {
                opening.abort();
                drop(opening.await);
            }
        }
    }

    fn slot(&self, host: usize) -> MutexGuard<'_, Option<Opening>> {
        self.waiting[host]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One step's start: the shells for its hosts' next commands open once its first wave of cells
/// (as many as run at once) has begun or ended; after that, as each cell begins.
pub struct Underway<'a> {
    shells: &'a Shells,
    wave: Mutex<Wave>,
}

struct Wave {
    /// Cells of the first wave yet to be heard from.
    left: usize,
    /// Hosts heard from, by index.
    heard: Vec<bool>,
    /// Where a command began in the first wave: its host's next shell opens with the wave's end.
    began: Vec<(usize, Arc<Connection>)>,
}

impl<'a> Underway<'a> {
    /// A step whose first wave is `cells` cells.
    pub fn new(shells: &'a Shells, cells: usize) -> Self {
        Self {
            shells,
            wave: Mutex::new(Wave {
                left: cells,
                heard: vec![false; shells.waiting.len()],
                began: Vec::with_capacity(cells),
            }),
        }
    }

    /// A command of `host` began on `connection`.
    pub fn began(&self, host: usize, connection: &Arc<Connection>) {
        self.heard(host, Some(connection));
    }

    /// The cell of `host` ended, whether or not a command began.
    pub fn ended(&self, host: usize) {
        self.heard(host, None);
    }

    fn heard(&self, host: usize, connection: Option<&Arc<Connection>>) {
        let mut wave = self
            .wave
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if wave.left == 0 {
            drop(wave);
            if let Some(connection) = connection {
                self.shells.prepare(host, connection);
            }
            return;
        }
        if std::mem::replace(&mut wave.heard[host], true) {
            return;
        }
        wave.left -= 1;
        if let Some(connection) = connection {
            wave.began.push((host, Arc::clone(connection)));
        }
        if wave.left == 0 {
            for (host, connection) in std::mem::take(&mut wave.began) {
                self.shells.prepare(host, &connection);
            }
        }
    }
}
