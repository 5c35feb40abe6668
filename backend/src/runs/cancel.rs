//! Cancelling a run: the signal the engine watches (`Cancel`), and the console's request for it,
//! which only a cluster's operators may make (when it names them); a launch cannot be cancelled.

use std::sync::Arc;

use super::operators::{Attempt, NotAnOperator, OperatorCheck, require_operator};
use super::{CancelOutcome, Runs};
use tokio_util::sync::CancellationToken;

use crate::store::{Actor, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no run {0}")]
    NoRun(i64),
    #[error(transparent)]
    NotAnOperator(#[from] NotAnOperator),
    #[error(
        "run {id} is {status} here: only a running run started by this server can be cancelled from the console"
    )]
    NotRunning { id: i64, status: &'static str },
    #[error(
        "run {0} is a launch, which cannot be cancelled midway: its EC2 calls are short, and it ends by itself (its wait for SSH within 5 minutes per instance)"
    )]
    Launch(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Runs {
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

    /// Cancels run `id` for `actor`, the cluster's definition saying who may.
    pub async fn cancel_request(
        self: &Arc<Self>,
        id: i64,
        actor: &Actor,
    ) -> Result<(), CancelError> {
        let Some((run, _)) = self.store.run(id).await? else {
            return Err(CancelError::NoRun(id));
        };
        // A cluster whose definition is gone names no operators any more.
        if let Ok(definition) = self.fleet.definition(&run.cluster).await {
            let attempt = Attempt {
                what: "cancel runs of",
                action: "run.cancel",
                target: format!("run {id}"),
            };
            match require_operator(&self.store, &definition, actor, attempt).await {
                Ok(()) => {}
                Err(OperatorCheck::Refused(refused)) => return Err(refused.into()),
                Err(OperatorCheck::Store(error)) => return Err(error.into()),
            }
        }
        match self.cancel(id, actor).await? {
            CancelOutcome::Cancelling => Ok(()),
            CancelOutcome::NotHere => Err(CancelError::NotRunning {
                id,
                status: run.status.as_str(),
            }),
            CancelOutcome::NotCancellable => Err(CancelError::Launch(id)),
        }
    }
}

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
    pub(super) fn steps_again(&self) {
        self.in_finally
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }

    pub(super) fn token(&self, finally: bool) -> &CancellationToken {
        if finally {
            self.in_finally
                .store(true, std::sync::atomic::Ordering::SeqCst);
            &self.finally
        } else {
            &self.steps
        }
    }
}
