//! The wizard's launch: checked again on the server, the AMI and the type compared, a dry run,
//! the new security group created only now, then the instances, once per client token.

use knit_shared::{InstanceAction, Invalid, LaunchRequest, LaunchResponse};

use super::Inventory;
use crate::ec2::cluster_state;
use crate::ec2::launch_instances as ec2;
use crate::ec2::rules::Rule;
use crate::ec2::{Ec2Error, ScopeError};
use crate::store::{AuditEvent, LaunchClaim, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Invalid>),
    #[error("image_id: no AMI {0} in {1}; check the id and the region")]
    UnknownImage(String, String),
    #[error("instance_type: {0} is not an instance type of {1}")]
    UnknownType(String, String),
    #[error(
        "instance_type: {kind} runs {supported} and the AMI is {image}; choose a type for {image}"
    )]
    Mismatch {
        kind: String,
        supported: String,
        image: String,
    },
    #[error("a launch with this client token is still going; wait for it to end")]
    InFlight,
    #[error("EC2's dry run refused the launch: {0}")]
    DryRun(Ec2Error),
    #[error("{source}{}", if .created.is_empty() { String::new() } else { format!("; already created: {}", .created.join(", ")) })]
    Failed {
        source: Ec2Error,
        created: Vec<String>,
    },
    #[error("started {}, but termination protection could not be set: {}", .started.join(", "), .failures.join("; "))]
    Unprotected {
        started: Vec<String>,
        failures: Vec<String>,
    },
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Ec2(#[from] Ec2Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Inventory {
    /// Launches what `request` asks on behalf of `actor`, recording it in `store`.
    pub async fn launch(
        &self,
        store: &Store,
        request: &LaunchRequest,
        actor: &str,
    ) -> Result<LaunchResponse, LaunchError> {
        let problems = request.problems();
        if !problems.is_empty() {
            return Err(LaunchError::Invalid(problems));
        }
        let scope = self
            .hub
            .resolve(request.profile.as_deref(), request.region.as_deref())
            .await?;
        match store
            .claim_launch(&request.client_token, actor, &scope.region)
            .await?
        {
            LaunchClaim::Done(earlier) => {
                return Ok(LaunchResponse {
                    repeated: true,
                    ..earlier
                });
            }
            LaunchClaim::InFlight => return Err(LaunchError::InFlight),
            LaunchClaim::New => {}
        }
        let launched = self.launch_once(request, &scope).await;
        store
            .finish_launch(&request.client_token, launched.as_ref().ok())
            .await?;
        let outcome = match &launched {
            Ok(response) => format!("{} started", response.instance_ids.len()),
            Err(error) => format!("refused: {error}"),
        };
        store
            .record(&AuditEvent {
                actor: actor.to_owned(),
                address: None,
                action: "instances.launch".to_owned(),
                target: format!(
                    "{} × {} ({})",
                    request.count, request.instance_type, request.image_id
                ),
                outcome,
            })
            .await?;
        if launched.is_ok() {
            self.cache.forget(&scope).await;
            self.feeds.poke(&scope);
        }
        launched
    }

    async fn launch_once(
        &self,
        request: &LaunchRequest,
        scope: &crate::ec2::Scope,
    ) -> Result<LaunchResponse, LaunchError> {
        let client = self.hub.client(scope).await;
        let target = self.hub.target(scope);
        let image = ec2::image_architecture(&client, &target, &request.image_id)
            .await?
            .ok_or_else(|| {
                LaunchError::UnknownImage(request.image_id.clone(), scope.region.clone())
            })?;
        let supported = ec2::type_architectures(&client, &target, &request.instance_type)
            .await?
            .ok_or_else(|| {
                LaunchError::UnknownType(request.instance_type.clone(), scope.region.clone())
            })?;
        if !image.is_empty() && !supported.is_empty() && !supported.contains(&image) {
            return Err(LaunchError::Mismatch {
                kind: request.instance_type.clone(),
                supported: supported.join(", "),
                image,
            });
        }
        // Before anything is created: would EC2 accept it? A new group cannot be named yet.
        ec2::run(&client, &target, request, &request.security_groups, true)
            .await
            .map_err(LaunchError::DryRun)?;

        let mut created = Vec::new();
        let mut group_ids = request.security_groups.clone();
        if let Some(group) = &request.new_group {
            let failed = |source, created: &Vec<String>| LaunchError::Failed {
                source,
                created: created.clone(),
            };
            let description = format!("{} (created by knit's launch wizard)", group.name);
            let id = cluster_state::create_group(
                &client,
                &target,
                &group.name,
                &description,
                &Default::default(),
            )
            .await
            .map_err(|e| failed(e, &created))?;
            created.push(format!("security group {} ({id})", group.name));
            for rule in &group.rules {
                let rule = Rule::from_definition(&rule.protocol, &rule.ports, &rule.source, &[]);
                cluster_state::change_rule(&client, &target, &id, &rule, &Default::default(), true)
                    .await
                    .map_err(|e| failed(e, &created))?;
            }
            group_ids.push(id);
        }
        let instance_ids = ec2::run(&client, &target, request, &group_ids, false)
            .await
            .map_err(|source| LaunchError::Failed {
                source,
                created: created.clone(),
            })?;
        if request.termination_protection {
            // Asked of RunInstances too; set again for endpoints that ignore it there (moto).
            let outcomes =
                crate::ec2::act(&client, &target, InstanceAction::Protect, &instance_ids).await;
            let unprotected: Vec<String> = outcomes
                .into_iter()
                .filter(|outcome| !outcome.ok)
                .map(|outcome| format!("{}: {}", outcome.instance_id, outcome.message))
                .collect();
            if !unprotected.is_empty() {
                return Err(LaunchError::Unprotected {
                    started: instance_ids,
                    failures: unprotected,
                });
            }
        }
        Ok(LaunchResponse {
            instance_ids,
            created,
            repeated: false,
        })
    }
}
