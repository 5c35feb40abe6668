//! The wizard's launch: checked again on the server, the AMI and the type compared, a dry run,
//! the new security group and key pair created only now, then the instances, once per client
//! token.

use knit_shared::{InstanceAction, Invalid, WizardCheck, WizardLaunched, WizardRequest};

use super::Wizard;
use crate::ec2::cluster_state;
use crate::ec2::rules::Rule;
use crate::ec2::run_instances as ec2;
use crate::ec2::{Ec2Error, ScopeError};
use crate::inventory::Connection;
use crate::store::{Actor, Store, StoreError, WizardClaim};

#[derive(Debug, thiserror::Error)]
pub enum WizardError {
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
    #[error("subnet_id: no subnet {0} in {1}; choose one of the region's subnets")]
    UnknownSubnet(String, String),
    #[error(
        "subnet_id: {0} has no default VPC; choose a subnet, which also says the VPC the instances go in"
    )]
    NoDefaultVpc(String),
    #[error(
        "security_groups: {group} is in {group_vpc} and the instances go in {vpc}; choose groups of {vpc}"
    )]
    GroupElsewhere {
        group: String,
        group_vpc: String,
        vpc: String,
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

impl Wizard {
    /// Launches what `request` asks on behalf of `actor`, recording it in `store`.
    pub async fn launch(
        &self,
        store: &Store,
        request: &WizardRequest,
        actor: &Actor,
    ) -> Result<WizardLaunched, WizardError> {
        let ec2 = self.connect_for(request).await?;
        match store
            .claim_wizard_token(&request.client_token, &actor.name, &ec2.scope.region)
            .await?
        {
            WizardClaim::Done(earlier) => {
                return Ok(WizardLaunched {
                    repeated: true,
                    ..earlier
                });
            }
            WizardClaim::InFlight => return Err(WizardError::InFlight),
            WizardClaim::New => {}
        }
        let launched = launch_once(&ec2, request).await;
        // The private key is handed over once, in this answer, and never stored.
        let kept = launched.as_ref().ok().map(|response| WizardLaunched {
            private_key: None,
            ..response.clone()
        });
        store
            .finish_wizard_token(&request.client_token, kept.as_ref())
            .await?;
        let outcome = match &launched {
            Ok(response) => format!("{} started", response.instance_ids.len()),
            Err(error) => format!("refused: {error}"),
        };
        store
            .record(&actor.did(
                "instances.launch",
                format!(
                    "{} × {} ({})",
                    request.count, request.instance_type, request.image_id
                ),
                outcome,
            ))
            .await?;
        if launched.is_ok() {
            self.inventory.changed(&ec2.scope).await;
        }
        launched
    }

    /// What the launch would do, checked by EC2's dry run; nothing is created.
    pub async fn check(&self, request: &WizardRequest) -> Result<WizardCheck, WizardError> {
        let ec2 = self.connect_for(request).await?;
        let vpc = preflight(&ec2, request).await?;
        Ok(WizardCheck {
            message: format!(
                "EC2's dry run accepts {} × {} from {} in {} ({vpc})",
                request.count, request.instance_type, request.image_id, ec2.scope.region
            ),
        })
    }

    /// The EC2 of a request the shared rules accept.
    async fn connect_for(&self, request: &WizardRequest) -> Result<Connection, WizardError> {
        let problems = request.problems();
        if !problems.is_empty() {
            return Err(WizardError::Invalid(problems));
        }
        Ok(self
            .inventory
            .connect(request.profile.as_deref(), request.region.as_deref())
            .await?)
    }
}

/// The launch itself, once its client token is claimed.
async fn launch_once(
    ec2: &Connection,
    request: &WizardRequest,
) -> Result<WizardLaunched, WizardError> {
    let (client, target) = (&ec2.client, &ec2.target);
    let vpc = preflight(ec2, request).await?;

    let mut created = Vec::new();
    let mut group_ids = request.security_groups.clone();
    if let Some(group) = &request.new_group {
        let failed = |source, created: &Vec<String>| WizardError::Failed {
            source,
            created: created.clone(),
        };
        let description = format!("{} (created by knit's launch wizard)", group.name);
        let id = cluster_state::create_group(
            client,
            target,
            &group.name,
            &description,
            Some(&vpc),
            &Default::default(),
        )
        .await
        .map_err(|e| failed(e, &created))?;
        created.push(format!("security group {} ({id})", group.name));
        for rule in &group.rules {
            // A source `sg-…` is another group, by id.
            let groups = [rule.source.as_str()];
            let by_id = if rule.source.starts_with("sg-") {
                &groups[..]
            } else {
                &[]
            };
            let rule = Rule::from_definition(&rule.protocol, &rule.ports, &rule.source, by_id);
            cluster_state::change_rule(client, target, &id, &rule, &Default::default(), true)
                .await
                .map_err(|e| failed(e, &created))?;
        }
        group_ids.push(id);
    }
    let mut private_key = None;
    if let Some(key) = &request.new_key {
        private_key = ec2::add_key_pair(client, target, key)
            .await
            .map_err(|source| WizardError::Failed {
                source,
                created: created.clone(),
            })?;
        let how = if private_key.is_some() {
            "created"
        } else {
            "imported"
        };
        created.push(format!("key pair {} ({how})", key.name));
    }
    let key_name = request
        .new_key
        .as_ref()
        .map(|key| key.name.as_str())
        .or(request.key_name.as_deref());
    let started = ec2::run(client, target, request, &group_ids, key_name, false).await;
    let instance_ids = match started {
        Ok(ids) => ids,
        Err(source) => {
            if let (Some(key), Some(_)) = (&request.new_key, &private_key) {
                // Nobody will ever hold its private key: a useless key pair is removed.
                let removed = ec2::delete_key_pair(client, target, &key.name).await;
                if let Some(last) = created.last_mut() {
                    *last = match removed {
                        Ok(()) => {
                            format!("key pair {} (created, then deleted again)", key.name)
                        }
                        Err(_) => format!(
                            "key pair {} (created; its private key is lost: delete it)",
                            key.name
                        ),
                    };
                }
            }
            return Err(WizardError::Failed { source, created });
        }
    };
    if request.termination_protection {
        // Asked of RunInstances too; set again for endpoints that ignore it there (moto).
        let outcomes =
            crate::ec2::act(client, target, InstanceAction::Protect, &instance_ids).await;
        let unprotected: Vec<String> = outcomes
            .into_iter()
            .filter(|outcome| !outcome.ok)
            .map(|outcome| format!("{}: {}", outcome.instance_id, outcome.message))
            .collect();
        if !unprotected.is_empty() {
            return Err(WizardError::Unprotected {
                started: instance_ids,
                failures: unprotected,
            });
        }
    }
    Ok(WizardLaunched {
        instance_ids,
        created,
        repeated: false,
        private_key,
    })
}

/// The checks before anything is created: the AMI and the type exist and suit each other, the
/// chosen groups are in the VPC the instances go in, and EC2's dry run accepts the launch
/// (without the group and key pair that do not exist yet). Returns that VPC.
async fn preflight(ec2: &Connection, request: &WizardRequest) -> Result<String, WizardError> {
    let (client, target, scope) = (&ec2.client, &ec2.target, &ec2.scope);
    let image = ec2::image_architecture(client, target, &request.image_id)
        .await?
        .ok_or_else(|| WizardError::UnknownImage(request.image_id.clone(), scope.region.clone()))?;
    let supported = ec2::type_architectures(client, target, &request.instance_type)
        .await?
        .ok_or_else(|| {
            WizardError::UnknownType(request.instance_type.clone(), scope.region.clone())
        })?;
    if !image.is_empty() && !supported.is_empty() && !supported.contains(&image) {
        return Err(WizardError::Mismatch {
            kind: request.instance_type.clone(),
            supported: supported.join(", "),
            image,
        });
    }
    let vpc = launch_vpc(ec2, request).await?;
    let existing_key = request.key_name.as_deref();
    ec2::run(
        client,
        target,
        request,
        &request.security_groups,
        existing_key,
        true,
    )
    .await
    .map_err(WizardError::DryRun)?;
    Ok(vpc)
}

/// The VPC the instances go in: the chosen subnet's, or else the region's default VPC. The
/// chosen groups must belong to it: EC2 refuses a group of another VPC.
async fn launch_vpc(ec2: &Connection, request: &WizardRequest) -> Result<String, WizardError> {
    let (client, target, region) = (&ec2.client, &ec2.target, &ec2.scope.region);
    let vpc = match &request.subnet_id {
        Some(subnet) => ec2::subnet_vpc(client, target, subnet)
            .await?
            .ok_or_else(|| WizardError::UnknownSubnet(subnet.clone(), region.clone()))?,
        None => ec2::default_vpc(client, target)
            .await?
            .ok_or_else(|| WizardError::NoDefaultVpc(region.clone()))?,
    };
    if !request.security_groups.is_empty() {
        let groups = ec2::group_vpcs(client, target, &request.security_groups).await?;
        if let Some((id, name, group_vpc)) = groups.into_iter().find(|(.., v)| *v != vpc) {
            return Err(WizardError::GroupElsewhere {
                group: format!("{name} ({id})"),
                group_vpc,
                vpc,
            });
        }
    }
    Ok(vpc)
}
