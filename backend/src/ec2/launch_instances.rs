//! The wizard's launch in EC2: what the AMI and the instance type are, a dry run, the launch.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    InstanceType, Placement, ResourceType, RunInstancesMonitoringEnabled, ShutdownBehavior, Tag,
    TagSpecification,
};
use base64::Engine;
use knit_shared::LaunchRequest;

use super::{Ec2Error, Ec2Target};

/// The architecture of image `id` (`x86_64`, `arm64`), or `None` when EC2 knows no such image.
pub async fn image_architecture(
    client: &Client,
    target: &Ec2Target,
    id: &str,
) -> Result<Option<String>, Ec2Error> {
    match client.describe_images().image_ids(id).send().await {
        Ok(found) => Ok(found
            .images()
            .first()
            .map(|image| image.architecture().map_or("", |a| a.as_str()).to_owned())),
        Err(error) => match Ec2Error::from_sdk(error, target) {
            Ec2Error::Refused { code, .. } if code.starts_with("InvalidAMIID") => Ok(None),
            other => Err(other),
        },
    }
}

/// The architectures instance type `name` supports, or `None` when EC2 knows no such type.
pub async fn type_architectures(
    client: &Client,
    target: &Ec2Target,
    name: &str,
) -> Result<Option<Vec<String>>, Ec2Error> {
    let request = client
        .describe_instance_types()
        .instance_types(InstanceType::from(name));
    match request.send().await {
        Ok(found) => Ok(found.instance_types().first().map(|info| {
            info.processor_info()
                .map(|processor| {
                    processor
                        .supported_architectures()
                        .iter()
                        .map(|a| a.as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        })),
        Err(error) => match Ec2Error::from_sdk(error, target) {
            Ec2Error::Refused { code, .. } if code.starts_with("InvalidInstanceType") => Ok(None),
            other => Err(other),
        },
    }
}

/// Starts the instances of `request` in groups `group_ids`; with `dry_run`, only asks EC2
/// whether it would (`Ok(empty)` when it would).
pub async fn run(
    client: &Client,
    target: &Ec2Target,
    request: &LaunchRequest,
    group_ids: &[String],
    dry_run: bool,
) -> Result<Vec<String>, Ec2Error> {
    let count = i32::try_from(request.count).unwrap_or(i32::MAX);
    let tags = |kind| {
        TagSpecification::builder()
            .resource_type(kind)
            .set_tags(Some(
                request
                    .tags
                    .iter()
                    .map(|(key, value)| Tag::builder().key(key).value(value).build())
                    .collect(),
            ))
            .build()
    };
    let user_data = (!request.user_data.is_empty())
        .then(|| base64::engine::general_purpose::STANDARD.encode(&request.user_data));
    let mut call = client
        .run_instances()
        .image_id(&request.image_id)
        .instance_type(InstanceType::from(request.instance_type.as_str()))
        .min_count(count)
        .max_count(count)
        .set_key_name(request.key_name.clone())
        .set_security_group_ids(Some(group_ids.to_vec()))
        .monitoring(
            RunInstancesMonitoringEnabled::builder()
                .enabled(request.detailed_monitoring)
                .build(),
        )
        .set_user_data(user_data)
        .disable_api_termination(request.termination_protection)
        .instance_initiated_shutdown_behavior(if request.terminate_on_shutdown {
            ShutdownBehavior::Terminate
        } else {
            ShutdownBehavior::Stop
        })
        .client_token(&request.client_token)
        .dry_run(dry_run);
    if let Some(zone) = &request.zone {
        call = call.placement(Placement::builder().availability_zone(zone).build());
    }
    if !request.tags.is_empty() {
        call = call
            .tag_specifications(tags(ResourceType::Instance))
            .tag_specifications(tags(ResourceType::Volume));
    }
    match call.send().await {
        Ok(started) => Ok(started
            .instances()
            .iter()
            .filter_map(|instance| instance.instance_id().map(str::to_owned))
            .collect()),
        Err(error) => match Ec2Error::from_sdk(error, target) {
            Ec2Error::Refused { code, .. } if dry_run && code == "DryRunOperation" => {
                Ok(Vec::new())
            }
            other => Err(other),
        },
    }
}
