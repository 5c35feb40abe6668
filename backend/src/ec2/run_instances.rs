//! The wizard's launch in EC2: what the AMI and the instance type are, a new key pair, a dry
//! run, the launch.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    IamInstanceProfileSpecification, InstanceMarketOptionsRequest, InstanceType, MarketType,
    Placement, ResourceType, RunInstancesMonitoringEnabled, ShutdownBehavior, SpotMarketOptions,
    Tag, TagSpecification,
};
use base64::Engine;
use knit_shared::{NewKey, WizardRequest};

use super::convert::filter;
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

/// The VPC of subnet `id`, or `None` when EC2 knows no such subnet.
pub async fn subnet_vpc(
    client: &Client,
    target: &Ec2Target,
    id: &str,
) -> Result<Option<String>, Ec2Error> {
    match client.describe_subnets().subnet_ids(id).send().await {
        Ok(found) => Ok(found
            .subnets()
            .first()
            .and_then(|subnet| subnet.vpc_id().map(str::to_owned))),
        Err(error) => match Ec2Error::from_sdk(error, target) {
            Ec2Error::Refused { code, .. } if code.starts_with("InvalidSubnetID") => Ok(None),
            other => Err(other),
        },
    }
}

/// The region's default VPC, if it has one (an account may have deleted it).
pub async fn default_vpc(client: &Client, target: &Ec2Target) -> Result<Option<String>, Ec2Error> {
    let found = client
        .describe_vpcs()
        .filters(filter("is-default", ["true".to_owned()]))
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    Ok(found
        .vpcs()
        .first()
        .and_then(|vpc| vpc.vpc_id().map(str::to_owned)))
}

/// The VPC of each group among `ids` that exists, as `(id, name, VPC)`. One EC2 does not know
/// is left for the launch itself to refuse.
pub async fn group_vpcs(
    client: &Client,
    target: &Ec2Target,
    ids: &[String],
) -> Result<Vec<(String, String, String)>, Ec2Error> {
    let found = client
        .describe_security_groups()
        .filters(filter("group-id", ids.iter().cloned()))
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    Ok(found
        .security_groups()
        .iter()
        .map(|group| {
            let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
            (
                text(group.group_id()),
                text(group.group_name()),
                text(group.vpc_id()),
            )
        })
        .collect())
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

/// Creates key pair `key` (returning its private key, which EC2 never gives again) or imports
/// its public key (returning `None`).
pub async fn add_key_pair(
    client: &Client,
    target: &Ec2Target,
    key: &NewKey,
) -> Result<Option<String>, Ec2Error> {
    match &key.public_key {
        Some(public_key) => client
            .import_key_pair()
            .key_name(&key.name)
            .public_key_material(Blob::new(public_key.trim().as_bytes()))
            .send()
            .await
            .map(|_| None)
            .map_err(|error| Ec2Error::from_sdk(error, target)),
        None => client
            .create_key_pair()
            .key_name(&key.name)
            .send()
            .await
            .map(|created| created.key_material().map(str::to_owned))
            .map_err(|error| Ec2Error::from_sdk(error, target)),
    }
}

/// Deletes key pair `name`.
pub async fn delete_key_pair(
    client: &Client,
    target: &Ec2Target,
    name: &str,
) -> Result<(), Ec2Error> {
    client
        .delete_key_pair()
        .key_name(name)
        .send()
        .await
        .map(|_| ())
        .map_err(|error| Ec2Error::from_sdk(error, target))
}

/// Starts the instances of `request` in groups `group_ids` with key pair `key_name`; with
/// `dry_run`, only asks EC2 whether it would (`Ok(empty)` when it would).
pub async fn run(
    client: &Client,
    target: &Ec2Target,
    request: &WizardRequest,
    group_ids: &[String],
    key_name: Option<&str>,
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
        .set_key_name(key_name.map(str::to_owned))
        .set_security_group_ids(Some(group_ids.to_vec()))
        .set_subnet_id(request.subnet_id.clone())
        .set_iam_instance_profile(request.instance_profile.as_ref().map(|name| {
            IamInstanceProfileSpecification::builder()
                .name(name)
                .build()
        }))
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
    // A subnet lies in one zone, which then wins.
    if let (Some(zone), None) = (&request.zone, &request.subnet_id) {
        call = call.placement(Placement::builder().availability_zone(zone).build());
    }
    if request.spot {
        let max_price = Some(request.spot_max_price.clone()).filter(|price| !price.is_empty());
        call = call.instance_market_options(
            InstanceMarketOptionsRequest::builder()
                .market_type(MarketType::Spot)
                .spot_options(
                    SpotMarketOptions::builder()
                        .set_max_price(max_price)
                        .build(),
                )
                .build(),
        );
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
