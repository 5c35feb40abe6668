//! Where new instances stand in EC2: their state, their status checks, their address.

use aws_sdk_ec2::Client;
use knit_shared::InstanceProgress;

use super::{Ec2Error, Ec2Target, convert};

/// The instances `ids`, in that order, with `ssh` false (knit probes that itself).
pub async fn read(
    client: &Client,
    target: &Ec2Target,
    ids: &[String],
) -> Result<Vec<InstanceProgress>, Ec2Error> {
    let described = client
        .describe_instances()
        .set_instance_ids(Some(ids.to_vec()))
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    let statuses = client
        .describe_instance_status()
        .set_instance_ids(Some(ids.to_vec()))
        .include_all_instances(true)
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    let instances: Vec<_> = described
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .map(convert::instance)
        .collect();
    Ok(ids
        .iter()
        .filter_map(|id| instances.iter().find(|i| &i.id == id))
        .map(|instance| {
            let status = statuses
                .instance_statuses()
                .iter()
                .find(|s| s.instance_id() == Some(instance.id.as_str()));
            let check = |summary: Option<&aws_sdk_ec2::types::InstanceStatusSummary>| {
                summary
                    .and_then(|s| s.status())
                    .map_or("", |s| s.as_str())
                    .to_owned()
            };
            let system = check(status.and_then(|s| s.system_status()));
            let own = check(status.and_then(|s| s.instance_status()));
            // Both must pass: the instance's own check while it fails, else the system's.
            let checks = if own == "ok" { system } else { own };
            InstanceProgress {
                id: instance.id.clone(),
                state: instance.state,
                checks,
                address: instance.public_ip.clone().or(instance.private_ip.clone()),
                ssh: false,
            }
        })
        .collect())
}
