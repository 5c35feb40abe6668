//! Starting a run, the one way the console, the command line and the schedules all take: find
//! the cluster's definition and its hosts, check who asks and what, expand the scenario, then
//! take the lock and go.

use std::sync::Arc;

use knit_shared::{RunSummary, StartRun};

use super::operators::{Attempt, NotAnOperator, OperatorCheck, require_operator};
use super::{HostsError, LAUNCH, Mask, RunError, RunHeader, Runs, Started, engine};
use crate::clusters::{Definition, Library, Plan, PlanError, SecretError, run_stamp};
use crate::ec2::{Ec2Error, ScopeError};
use crate::ssh::{Identity, KeyExchange, KnownHosts};
use crate::store::Actor;
use crate::{notify, open_files};

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
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("cluster {0} wants its name typed to start a run: send \"confirm\": \"{0}\"")]
    Unconfirmed(String),
    #[error(
        "scenario {scenario} of cluster {cluster} locks its rollout (lock_rollout): only an admin \
         may override serial or max_fail_percentage; start it without them"
    )]
    RolloutLocked { cluster: String, scenario: String },
}

/// How far the one who asks for a run is trusted, beyond the role that lets them ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// A person of the console or the API, or a schedule: a cluster's operators are checked, and
    /// a locked rollout stays as the scenario says.
    Deployer,
    /// An admin: operators are checked; a locked rollout may be overridden.
    Admin,
    /// The command line on knit's own machine, whose account may do anything knit may.
    Machine,
}

impl Runs {
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

    /// Starts `request` on behalf of `actor`.
    pub async fn start_request(
        self: &Arc<Self>,
        request: &StartRun,
        actor: &Actor,
        standing: Standing,
    ) -> Result<Started, StartError> {
        let definition = self.fleet.definition(&request.cluster).await?;
        self.check_asker(&definition, request, actor, standing)
            .await?;
        if request.scenario == LAUNCH {
            let (client, target) = self.fleet.ec2(&definition).await?;
            return Ok(self.start_launch(definition, client, target, actor).await?);
        }
        let definition = self.fleet.with_secrets(definition).await?;
        let plan = self.plan_for(&definition, request).await?;
        Ok(self.start(&definition, plan, actor).await?)
    }

    /// What `request` would run, and the definition it comes from, without starting it.
    pub async fn plan_request(&self, request: &StartRun) -> Result<(Definition, Plan), StartError> {
        let definition = self.fleet.definition(&request.cluster).await?;
        let definition = self.fleet.with_secrets(definition).await?;
        let plan = self.plan_for(&definition, request).await?;
        Ok((definition, plan))
    }

    /// The summary of a run just started.
    pub async fn summary(&self, started: &Started) -> Result<RunSummary, RunError> {
        let found = self.store.run(started.id).await?;
        let (summary, _) = found.ok_or_else(|| {
            crate::store::StoreError::Corrupt("runs", format!("run {} vanished", started.id))
        })?;
        Ok(summary)
    }

    /// Refuses who asks where the cluster names other operators, an unconfirmed start where it
    /// wants its name typed, and a rollout override where the scenario locks its rollout.
    async fn check_asker(
        &self,
        definition: &Definition,
        request: &StartRun,
        actor: &Actor,
        standing: Standing,
    ) -> Result<(), StartError> {
        if standing != Standing::Machine {
            let attempt = Attempt {
                what: "run",
                action: "run.start",
                target: attempt_target(request),
            };
            match require_operator(&self.store, definition, actor, attempt).await {
                Ok(()) => {}
                Err(OperatorCheck::Refused(refused)) => return Err(refused.into()),
                Err(OperatorCheck::Store(error)) => return Err(RunError::Store(error).into()),
            }
        }
        if definition.file.cluster.needs_confirmation()
            && request.confirm.as_deref().map(str::trim) != Some(definition.name())
        {
            return Err(StartError::Unconfirmed(definition.name().to_owned()));
        }
        let overrides = request.serial.is_some() || request.max_fail_percentage.is_some();
        if overrides
            && standing == Standing::Deployer
            && definition.locks_rollout(&request.scenario)
        {
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
        Ok(())
    }

    /// The scenario of `request` expanded over the hosts of now; a retry's over the hosts the
    /// retried run left undone, with its stamp, so they get the releases the others got.
    async fn plan_for(
        &self,
        definition: &Definition,
        request: &StartRun,
    ) -> Result<Plan, StartError> {
        let hosts = self.fleet.hosts(definition).await?;
        let (request, stamp) = match request.retry_of {
            Some(retried) => self.retry_request(retried, request).await?,
            None => (request.clone(), run_stamp()),
        };
        Ok(definition.plan(Library::builtin(), &hosts, &request, &stamp)?)
    }
}

/// What a start of `request` is audited as.
fn attempt_target(request: &StartRun) -> String {
    format!("{}/{}", request.cluster, request.scenario)
}

/// How a run logs in to the cluster's hosts: its key file and bastion if it names them, the
/// user's SSH configuration otherwise, and always knit's known_hosts.
pub(super) fn identity_for(definition: &Definition, known_hosts: &KnownHosts) -> Identity {
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
