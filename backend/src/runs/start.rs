//! Starting a run as the console asks for it: find the cluster's definition, its hosts, expand
//! the scenario, then take the lock and go.

use std::path::PathBuf;
use std::sync::Arc;

use knit_shared::{RunSummary, StartRun};

use super::{HostsError, RunError, Runs, machine_hosts, needs_ec2};
use crate::clusters::{self, Definition, Library, Narrow, PlanError};
use crate::ec2::{Ec2Hub, ScopeError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no cluster {name}{}; GET /api/clusters lists the clusters and the mistakes",
        if *.broken > 0 { format!(" among the valid definitions ({} mistakes in the others)", .broken) } else { String::new() })]
    UnknownCluster { name: String, broken: usize },
    #[error("cannot read the cluster definitions: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Hosts(#[from] HostsError),
    #[error(transparent)]
    Run(#[from] RunError),
}

impl Runs {
    /// Starts `request` on behalf of `actor`, with the definitions of `dirs` and EC2 of `hub`.
    pub async fn start_request(
        self: &Arc<Self>,
        dirs: &[PathBuf],
        hub: &Ec2Hub,
        request: &StartRun,
        actor: &str,
    ) -> Result<RunSummary, StartError> {
        let definition = find(dirs, &request.cluster).await?;
        let hosts = if needs_ec2(&definition) {
            let cluster = &definition.file.cluster;
            let scope = hub
                .resolve(cluster.profile.as_deref(), cluster.region.as_deref())
                .await?;
            let client = hub.client(&scope).await;
            machine_hosts(&definition, Some((&client, &hub.target(&scope)))).await?
        } else {
            definition.static_hosts()
        };
        let narrow = Narrow {
            hosts: request.hosts.clone(),
            roles: request.roles.clone(),
        };
        let plan = definition.plan(&Library::builtin(), &request.scenario, &hosts, &narrow)?;
        let started = self.start(&definition, plan, actor).await?;
        let (summary, _) = self
            .store()
            .run(started.id)
            .await
            .map_err(RunError::Store)?
            .ok_or_else(|| {
                RunError::Store(crate::store::StoreError::Corrupt(
                    "runs",
                    format!("run {} vanished", started.id),
                ))
            })?;
        Ok(summary)
    }
}

/// The definition of cluster `name` among the files of `dirs`.
async fn find(dirs: &[PathBuf], name: &str) -> Result<Definition, StartError> {
    let dirs = dirs.to_vec();
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let library = Library::builtin();
        let mut broken = 0;
        for dir in dirs.iter().filter(|dir| dir.exists()) {
            let loaded = clusters::load_dir(dir, &library);
            if let Some(found) = loaded.definitions.into_iter().find(|d| d.name() == name) {
                return Ok(found);
            }
            broken += loaded.errors.len();
        }
        Err(StartError::UnknownCluster { name, broken })
    })
    .await
    .unwrap_or_else(|error| Err(StartError::Unreadable(error.to_string())))
}
