//! Starting a run as the console asks for it: find the cluster's definition, its hosts, expand
//! the scenario, then take the lock and go.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_ec2::Client;
use knit_shared::{ClusterHost, LaunchPlan, RunSummary, StartRun};

use super::{HostsError, LAUNCH, RunError, Runs, machine_hosts, needs_ec2};
use crate::clusters::{self, Definition, Library, PlanError, RunRequest};
use crate::ec2::{Ec2Error, Ec2Hub, Ec2Target, ScopeError};
use crate::launch;
use crate::ssh::SshTarget;
use crate::store::Actor;

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
    #[error(transparent)]
    Ec2(#[from] Ec2Error),
    #[error(transparent)]
    NotAnOperator(#[from] NotAnOperator),
    #[error(transparent)]
    Retry(#[from] super::RetryError),
    #[error("cluster {0} wants its name typed to start a run: send \"confirm\": \"{0}\"")]
    Unconfirmed(String),
    #[error(
        "scenario {scenario} of cluster {cluster} locks its rollout (lock_rollout): only an admin \
         may override serial or max_fail_percentage; start it without them"
    )]
    RolloutLocked { cluster: String, scenario: String },
}

/// Refused: the cluster names its operators, and the person is not one of them.
#[derive(Debug, thiserror::Error)]
#[error(
    "only {operators} may {what} cluster {cluster}; ask an admin to add {name} to its operators"
)]
pub struct NotAnOperator {
    what: &'static str,
    cluster: String,
    operators: String,
    name: String,
}

/// What an operator check is about: what the person may not do (e.g. `run`), and the audit
/// entry's action and target when refused.
pub(super) struct Attempt<'a> {
    pub what: &'static str,
    pub action: &'a str,
    pub target: String,
}

/// Refuses `actor` unless `definition` names no operators or names them; a refusal is audited.
pub(super) async fn require_operator(
    store: &crate::store::Store,
    definition: &Definition,
    actor: &Actor,
    attempt: Attempt<'_>,
) -> Result<(), OperatorCheck> {
    let operators = &definition.file.cluster.operators;
    if operators.is_empty() || operators.contains(&actor.name) {
        return Ok(());
    }
    let refused = NotAnOperator {
        what: attempt.what,
        cluster: definition.name().to_owned(),
        operators: operators.join(", "),
        name: actor.name.clone(),
    };
    let note = "refused: not an operator".to_owned();
    store
        .record(&actor.did(attempt.action, attempt.target, note))
        .await?;
    Err(OperatorCheck::Refused(refused))
}

/// Why `require_operator` said no.
#[derive(Debug, thiserror::Error)]
pub(super) enum OperatorCheck {
    #[error(transparent)]
    Refused(NotAnOperator),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl Runs {
    /// Starts `request` on behalf of `actor` (who may override a locked rollout when `admin`),
    /// with the definitions of `dirs` and EC2 of `hub`.
    pub async fn start_request(
        self: &Arc<Self>,
        dirs: &[PathBuf],
        hub: &Ec2Hub,
        request: &StartRun,
        actor: &Actor,
        admin: bool,
    ) -> Result<RunSummary, StartError> {
        let definition = find(dirs, &request.cluster).await?;
        let attempt = Attempt {
            what: "run",
            action: "run.start",
            target: attempt_target(request),
        };
        match require_operator(&self.store, &definition, actor, attempt).await {
            Ok(()) => {}
            Err(OperatorCheck::Refused(refused)) => return Err(refused.into()),
            Err(OperatorCheck::Store(error)) => return Err(RunError::Store(error).into()),
        }
        if definition.file.cluster.needs_confirmation()
            && request.confirm.as_deref().map(str::trim) != Some(definition.name())
        {
            return Err(StartError::Unconfirmed(definition.name().to_owned()));
        }
        let overrides = request.serial.is_some() || request.max_fail_percentage.is_some();
        if overrides && !admin && definition.locks_rollout(&request.scenario) {
            let refused = StartError::RolloutLocked {
                cluster: definition.name().to_owned(),
                scenario: request.scenario.clone(),
            };
            let note = "refused: the rollout is locked".to_owned();
            self.store
                .record(&actor.did("run.start", attempt_target(request), note))
                .await
                .map_err(RunError::Store)?;
            return Err(refused);
        }
        let started = if request.scenario == LAUNCH {
            let (client, target) = cluster_ec2(&definition, hub).await?;
            self.start_launch(definition, client, target, actor).await?
        } else {
            self.start_scenario(&definition, hub, request, actor)
                .await?
        };
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

    /// The hosts a run of cluster `name` would use now, with their machines' roles.
    pub async fn cluster_hosts(
        &self,
        dirs: &[PathBuf],
        hub: &Ec2Hub,
        name: &str,
    ) -> Result<Vec<ClusterHost>, StartError> {
        let definition = find(dirs, name).await?;
        let hosts = hosts_now(&definition, hub).await?;
        Ok(definition
            .named_hosts(&hosts)
            .into_iter()
            .map(|host| ClusterHost {
                roles: definition.file.machines[&host.machine]
                    .get_ref()
                    .roles
                    .keys()
                    .cloned()
                    .collect(),
                name: host.name,
                address: host.target.to_string(),
                machine: host.machine,
            })
            .collect())
    }

    /// What `launch` would change for cluster `name`.
    pub async fn launch_plan(
        &self,
        dirs: &[PathBuf],
        hub: &Ec2Hub,
        name: &str,
    ) -> Result<LaunchPlan, StartError> {
        let definition = find(dirs, name).await?;
        let (client, target) = cluster_ec2(&definition, hub).await?;
        Ok(launch::plan(&definition, &client, &target).await?)
    }

    async fn start_scenario(
        self: &Arc<Self>,
        definition: &Definition,
        hub: &Ec2Hub,
        request: &StartRun,
        actor: &Actor,
    ) -> Result<super::Started, StartError> {
        let hosts = hosts_now(definition, hub).await?;
        let mut asked = RunRequest {
            hosts: request.hosts.clone(),
            roles: request.roles.clone(),
            params: request.params.clone(),
            serial: request.serial.clone(),
            max_fail_percentage: request.max_fail_percentage,
        };
        if let Some(retried) = request.retry_of {
            asked = self
                .retry_request(retried, definition.name(), &request.scenario, &asked)
                .await?;
        }
        let mut plan = definition.plan(Library::builtin(), &request.scenario, &hosts, &asked)?;
        plan.retry_of = request.retry_of;
        plan.wait = request.wait;
        Ok(self.start(definition, plan, actor).await?)
    }
}

/// What a start of `request` is audited as.
fn attempt_target(request: &StartRun) -> String {
    format!("{}/{}", request.cluster, request.scenario)
}

/// The hosts of each machine of `definition`: its static ones, or those EC2 runs now.
async fn hosts_now(
    definition: &Definition,
    hub: &Ec2Hub,
) -> Result<BTreeMap<String, Vec<SshTarget>>, StartError> {
    if !needs_ec2(definition) {
        return Ok(definition.static_hosts());
    }
    let (client, target) = cluster_ec2(definition, hub).await?;
    Ok(machine_hosts(definition, Some((&client, &target))).await?)
}

/// The EC2 client of the cluster's profile and region.
async fn cluster_ec2(
    definition: &Definition,
    hub: &Ec2Hub,
) -> Result<(Client, Ec2Target), StartError> {
    let cluster = &definition.file.cluster;
    let scope = hub
        .resolve(cluster.profile.as_deref(), cluster.region.as_deref())
        .await?;
    Ok((hub.client(&scope).await, hub.target(&scope)))
}

/// The definition of cluster `name` among the files of `dirs`.
pub(super) async fn find(dirs: &[PathBuf], name: &str) -> Result<Definition, StartError> {
    let dirs = dirs.to_vec();
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        let library = Library::builtin();
        let mut broken = 0;
        for dir in dirs.iter().filter(|dir| dir.exists()) {
            let loaded = clusters::load_dir(dir, library);
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
