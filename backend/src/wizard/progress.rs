//! Following new instances after a launch: EC2 read every few seconds, port 22 tried once an
//! instance runs, a new event whenever something moved, until all are ready or gave up.

use std::time::Duration;

use futures_util::Stream;
use knit_shared::{
    InstanceProgress, InstanceState, Invalid, ProgressQuery, WizardProgress, validate,
};

use super::Wizard;
use crate::ec2::{self, ScopeError};
use crate::reach::Reach;

const EVERY: Duration = Duration::from_secs(2);
/// Long enough for a slow Windows boot; then the person looks in the instance list.
const AT_MOST: Duration = Duration::from_secs(15 * 60);
/// Instances one progress view follows at most (a launch starts at most this many).
const MAX_IDS: usize = knit_shared::wizard::MAX_COUNT as usize;

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error(transparent)]
    Scope(#[from] ScopeError),
}

impl Wizard {
    /// The progress of the instances of `query`, as a stream of changes; a failed read of EC2
    /// is retried, not reported.
    pub async fn progress(
        &self,
        query: &ProgressQuery,
    ) -> Result<impl Stream<Item = WizardProgress> + use<>, ProgressError> {
        let ids: Vec<String> = query.ids.split(',').map(str::to_owned).collect();
        if ids.len() > MAX_IDS {
            return Err(Invalid {
                field: "ids",
                message: format!("follow at most {MAX_IDS} instances at once"),
            }
            .into());
        }
        for id in &ids {
            validate::instance_id(id)?;
        }
        let ec2 = self
            .inventory
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let (client, target) = (ec2.client, ec2.target);
        // Where new instances' port 22 is tried: the sandbox's machines answer on relays.
        let reach = self.inventory.hub.reach().clone();
        let deadline = tokio::time::Instant::now() + AT_MOST;
        let start = (None::<WizardProgress>, false);
        Ok(futures_util::stream::unfold(start, move |(last, ended)| {
            let (client, target, ids) = (client.clone(), target.clone(), ids.clone());
            let reach = reach.clone();
            async move {
                if ended {
                    return None;
                }
                // The first read goes at once; every later one, failed or not, waits its turn.
                let mut wait = last.is_some();
                loop {
                    if wait {
                        tokio::time::sleep(EVERY).await;
                    }
                    wait = true;
                    let timed_out = tokio::time::Instant::now() >= deadline;
                    let mut instances = match ec2::progress::read(&client, &target, &ids).await {
                        Ok(instances) => instances,
                        Err(error) if timed_out => {
                            tracing::warn!(%error, "gave up following the launched instances");
                            return None;
                        }
                        Err(error) => {
                            tracing::warn!(%error, "cannot read the launched instances; trying again");
                            continue;
                        }
                    };
                    let reachable = futures_util::future::join_all(
                        instances.iter().map(|i| probe(i, last.as_ref(), &reach)),
                    )
                    .await;
                    for (instance, ssh) in instances.iter_mut().zip(reachable) {
                        instance.ssh = ssh;
                    }
                    let now = WizardProgress { instances };
                    let end = now.settled() || timed_out;
                    if last.as_ref() != Some(&now) || end {
                        return Some((now.clone(), (Some(now), end)));
                    }
                }
            }
        }))
    }
}

/// Whether an SSH server answers on port 22 of a running instance; once it has, it is not
/// tried again.
async fn probe(instance: &InstanceProgress, last: Option<&WizardProgress>, reach: &Reach) -> bool {
    let answered_before = last
        .and_then(|l| l.instances.iter().find(|i| i.id == instance.id))
        .is_some_and(|i| i.ssh);
    if answered_before {
        return true;
    }
    match (instance.state, &instance.address) {
        (InstanceState::Running, Some(address)) => reach.answers_ssh(address).await,
        _ => false,
    }
}
