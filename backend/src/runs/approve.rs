//! Approving or rejecting a run that waits for an approver: one of the cluster's `approvers`,
//! never the person who asked for it. Approved, the run waits in line and starts; rejected, it
//! ends without running. Both are audited, and so is every refusal.

use knit_shared::RunStatus;

use super::Runs;
use crate::store::{Actor, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    #[error("no run {0}")]
    NoRun(i64),
    #[error("run {id} is {status}, not awaiting approval")]
    NotAwaiting { id: i64, status: &'static str },
    #[error("only {approvers} may approve or reject runs of cluster {cluster}")]
    NotAnApprover { cluster: String, approvers: String },
    #[error("{0} asked for this run: someone else must approve or reject it")]
    OwnRun(String),
    #[error("the cluster's definition cannot be read, so who may approve is unknown: {0}")]
    Definition(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Runs {
    /// Approves (`approved`) or rejects run `id` for `actor`, saying `comment`. A refusal is
    /// recorded in the audit log as well.
    pub async fn decide(
        &self,
        id: i64,
        actor: &Actor,
        approved: bool,
        comment: &str,
    ) -> Result<(), ApproveError> {
        let action = if approved {
            "run.approve"
        } else {
            "run.reject"
        };
        let decided = self.try_decide(id, actor, approved, comment).await;
        let outcome = match &decided {
            Ok(()) => comment.to_owned(),
            Err(ApproveError::Store(_)) => return decided,
            Err(refused) => format!("refused: {refused}"),
        };
        self.store
            .record(&actor.did(action, format!("run {id}"), outcome))
            .await?;
        decided
    }

    async fn try_decide(
        &self,
        id: i64,
        actor: &Actor,
        approved: bool,
        comment: &str,
    ) -> Result<(), ApproveError> {
        let (run, _) = self.store.run(id).await?.ok_or(ApproveError::NoRun(id))?;
        let definition = self
            .fleet
            .definition(&run.cluster)
            .await
            .map_err(|error| ApproveError::Definition(error.to_string()))?;
        let approvers = &definition.file.cluster.approvers;
        if !approvers.contains(&actor.name) {
            return Err(ApproveError::NotAnApprover {
                cluster: run.cluster,
                approvers: approvers.join(", "),
            });
        }
        if run.actor == actor.name {
            return Err(ApproveError::OwnRun(run.actor));
        }
        let not_awaiting = |status: RunStatus| ApproveError::NotAwaiting {
            id,
            status: status.as_str(),
        };
        if run.status != RunStatus::AwaitingApproval {
            return Err(not_awaiting(run.status));
        }
        if !self
            .store
            .decide(id, approved, &actor.name, comment)
            .await?
        {
            let now = self
                .store
                .run(id)
                .await?
                .map_or(run.status, |(run, _)| run.status);
            return Err(not_awaiting(now));
        }
        Ok(())
    }
}
