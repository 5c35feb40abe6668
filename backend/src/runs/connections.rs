//! The hosts of a run at work: each host's connection, from the pool (kept from an earlier run,
//! or new) at its first step and used for the whole run, replaced when it ends under a command
//! that could not start; and the shell waiting for each host's next command.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::shells::Shells;
use crate::clusters::{Host, Plan};
use crate::ssh::{Connection, Identity, Pool, SshError};

/// A host's connection, or why there is none.
type Made = Result<Arc<Connection>, String>;

/// The connection to each host, from the pool (kept from an earlier run, or new), taken at its
/// first step and used for the whole run; and the shell waiting for each host's next command.
pub(super) struct Hosts<'a> {
    pub(super) hosts: &'a [Host],
    identity: &'a Identity,
    pool: &'a Pool,
    /// Each host's connection once made (or why there is none).
    made: Vec<tokio::sync::Mutex<Option<Made>>>,
    pub(super) shells: Shells,
    /// Hosts whose failure to connect a step has reported.
    reported: Vec<AtomicBool>,
    /// Hosts whose connection broke mid-run, and why.
    lost: Mutex<Vec<Option<String>>>,
}

impl<'a> Hosts<'a> {
    pub(super) fn new(plan: &'a Plan, identity: &'a Identity, pool: &'a Pool) -> Self {
        let hosts = &plan.hosts;
        Self {
            hosts,
            identity,
            pool,
            made: hosts
                .iter()
                .map(|_| tokio::sync::Mutex::new(None))
                .collect(),
            shells: Shells::new(plan),
            reported: hosts.iter().map(|_| AtomicBool::new(false)).collect(),
            lost: Mutex::new(vec![None; hosts.len()]),
        }
    }

    /// The host's connection for a step; `Err` says why there is none, and whether a step is the first to
    /// hear it (a failure of that step) or it was told before (a skip).
    pub(super) async fn for_step(&self, index: usize) -> Result<Arc<Connection>, (bool, String)> {
        if let Some(reason) = self.lost_reason(index) {
            return Err((false, reason));
        }
        self.connection(index)
            .await
            .map_err(|reason| (!self.reported[index].swap(true, Ordering::SeqCst), reason))
    }

    /// The host's connection, made at the first ask (with a shell for its first command);
    /// later asks wait for it.
    pub(super) async fn connection(&self, index: usize) -> Result<Arc<Connection>, String> {
        let mut made = self.made[index].lock().await;
        if let Some(made) = made.as_ref() {
            return made.clone();
        }
        let connection = self.connect(index).await;
        *made = Some(connection.clone());
        connection
    }

    /// A new connection in place of `ended`, on which no command could start. Another command
    /// of the host may have replaced it first.
    pub(super) async fn reconnect(
        &self,
        index: usize,
        ended: &Arc<Connection>,
    ) -> Result<Arc<Connection>, String> {
        let mut made = self.made[index].lock().await;
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
        self.prepared(index, self.pool.connect(target, self.identity).await)
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

    pub(super) fn mark_lost(&self, index: usize, reason: String) {
        if let Ok(mut lost) = self.lost.lock() {
            lost[index] = Some(reason);
        }
    }
}
