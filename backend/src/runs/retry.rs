//! Retrying a run on the hosts it left undone: the same scenario and parameters, on the hosts
//! where a step failed, was skipped or never ran.

use knit_shared::params::HIDDEN;

use super::Runs;
use crate::clusters::run_stamp;
use crate::store::StoreError;
use knit_shared::StartRun;

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("there is no run {0} to retry")]
    UnknownRun(i64),
    #[error(
        "run {id} is {scenario} on {cluster}: a retry runs the same scenario on the same cluster"
    )]
    Mismatch {
        id: i64,
        cluster: String,
        scenario: String,
    },
    #[error("run {0} is still going: retry it once it has ended")]
    Running(i64),
    #[error("run {0} left no host undone: every step ran well on every host")]
    NothingUndone(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Runs {
    /// What a retry of run `id` asks for: its undone hosts and its parameters (a secret one is
    /// not kept: it takes its default). `asked`, which names the same cluster and scenario,
    /// adds to or overrides the parameters, and may set the rollout. With the retried run's
    /// stamp.
    pub(super) async fn retry_request(
        &self,
        id: i64,
        asked: &StartRun,
    ) -> Result<(StartRun, String), RetryError> {
        let detail = self.detail(id).await?.ok_or(RetryError::UnknownRun(id))?;
        let run = &detail.run;
        if run.cluster != asked.cluster || run.scenario != asked.scenario {
            return Err(RetryError::Mismatch {
                id,
                cluster: run.cluster.clone(),
                scenario: run.scenario.clone(),
            });
        }
        if run.status.is_going() {
            return Err(RetryError::Running(id));
        }
        let hosts = detail.grid.unfinished_hosts(&detail.plan);
        if hosts.is_empty() {
            return Err(RetryError::NothingUndone(id));
        }
        let mut params: std::collections::BTreeMap<String, String> = run
            .params
            .iter()
            .filter(|(_, value)| value.as_str() != HIDDEN)
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        params.extend(asked.params.clone());
        let request = StartRun {
            hosts,
            params,
            ..asked.clone()
        };
        // A run from before runs had stamps gets a new one.
        let stamp = match detail.plan.stamp.as_str() {
            "" => run_stamp(),
            stamp => stamp.to_owned(),
        };
        Ok((request, stamp))
    }
}
