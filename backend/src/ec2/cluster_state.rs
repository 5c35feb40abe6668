//! A cluster's footprint in EC2: its security groups with their rules, and the calls that
//! create groups, change rules and start instances for `launch`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, InstanceType, IpPermission, IpRange, Placement, ResourceType, Tag, TagSpecification,
    UserIdGroupPair,
};
use knit_shared::{Instance, InstanceState};

use super::rules::{Rule, Source};
use super::{Ec2Error, Ec2Target, convert};

/// A security group as found, with its inbound rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    pub id: String,
    pub name: String,
    pub rules: Vec<Rule>,
}

/// The groups among `names` that exist, with sources of other groups named by name.
pub async fn groups_named(
    client: &Client,
    target: &Ec2Target,
    names: &[String],
) -> Result<Vec<GroupState>, Ec2Error> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let found = client
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .set_values(Some(names.to_vec()))
                .build(),
        )
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    let groups = found.security_groups();
    let name_of: BTreeMap<&str, &str> = groups
        .iter()
        .filter_map(|g| Some((g.group_id()?, g.group_name()?)))
        .collect();
    Ok(groups
        .iter()
        .map(|group| GroupState {
            id: group.group_id().unwrap_or_default().to_owned(),
            name: group.group_name().unwrap_or_default().to_owned(),
            rules: group
                .ip_permissions()
                .iter()
                .flat_map(|permission| rules_of(permission, &name_of))
                .collect(),
        })
        .collect())
}

fn rules_of(permission: &IpPermission, name_of: &BTreeMap<&str, &str>) -> Vec<Rule> {
    let protocol = permission.ip_protocol().unwrap_or("-1").to_owned();
    let (from_port, to_port) = if protocol == "-1" {
        (-1, -1)
    } else {
        (
            permission.from_port().unwrap_or(-1),
            permission.to_port().unwrap_or(-1),
        )
    };
    let sources = permission
        .ip_ranges()
        .iter()
        .filter_map(|range| range.cidr_ip().map(|c| Source::Cidr(c.to_owned())))
        .chain(
            permission
                .ipv6_ranges()
                .iter()
                .filter_map(|range| range.cidr_ipv6().map(|c| Source::Cidr(c.to_owned()))),
        )
        .chain(permission.user_id_group_pairs().iter().filter_map(|pair| {
            let id = pair.group_id()?;
            Some(Source::Group(
                name_of.get(id).map_or(id, |name| name).to_owned(),
            ))
        }));
    sources
        .map(|source| Rule {
            protocol: protocol.clone(),
            from_port,
            to_port,
            source,
        })
        .collect()
}

/// Creates group `name` in the default VPC, tagged with `tags`; returns its id.
pub async fn create_group(
    client: &Client,
    target: &Ec2Target,
    name: &str,
    description: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String, Ec2Error> {
    let mut request = client
        .create_security_group()
        .group_name(name)
        .description(description);
    // EC2 refuses a tag specification without tags.
    if !tags.is_empty() {
        request = request.tag_specifications(tagged(ResourceType::SecurityGroup, tags));
    }
    let created = request
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    Ok(created.group_id().unwrap_or_default().to_owned())
}

/// Adds (`add`) or removes inbound `rule` of group `group_id`; `ids` maps group names to ids.
pub async fn change_rule(
    client: &Client,
    target: &Ec2Target,
    group_id: &str,
    rule: &Rule,
    ids: &BTreeMap<String, String>,
    add: bool,
) -> Result<(), Ec2Error> {
    let mut permission = IpPermission::builder().ip_protocol(&rule.protocol);
    if rule.protocol != "-1" {
        permission = permission.from_port(rule.from_port).to_port(rule.to_port);
    }
    permission = match &rule.source {
        Source::Cidr(block) if block.contains(':') => permission.ipv6_ranges(
            aws_sdk_ec2::types::Ipv6Range::builder()
                .cidr_ipv6(block)
                .build(),
        ),
        Source::Cidr(block) => permission.ip_ranges(IpRange::builder().cidr_ip(block).build()),
        Source::Group(name) => permission.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(ids.get(name).map_or(name.as_str(), String::as_str))
                .build(),
        ),
    };
    let permission = permission.build();
    if add {
        client
            .authorize_security_group_ingress()
            .group_id(group_id)
            .ip_permissions(permission)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| Ec2Error::from_sdk(error, target))
    } else {
        client
            .revoke_security_group_ingress()
            .group_id(group_id)
            .ip_permissions(permission)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| Ec2Error::from_sdk(error, target))
    }
}

/// What to start for one machine.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    pub ami: &'a str,
    pub instance_type: &'a str,
    pub count: i32,
    pub key_name: Option<&'a str>,
    pub group_ids: Vec<String>,
    pub zone: Option<&'a str>,
    pub tags: BTreeMap<String, String>,
    /// The same token twice starts instances once: a retried launch cannot double them.
    pub client_token: String,
}

/// Starts the instances of `launch`; returns their ids.
pub async fn run_instances(
    client: &Client,
    target: &Ec2Target,
    launch: &Launch<'_>,
) -> Result<Vec<String>, Ec2Error> {
    let mut request = client
        .run_instances()
        .image_id(launch.ami)
        .instance_type(InstanceType::from(launch.instance_type))
        .min_count(launch.count)
        .max_count(launch.count)
        .set_key_name(launch.key_name.map(str::to_owned))
        .set_security_group_ids(Some(launch.group_ids.clone()))
        .client_token(&launch.client_token)
        .tag_specifications(tagged(ResourceType::Instance, &launch.tags))
        .tag_specifications(tagged(ResourceType::Volume, &launch.tags));
    if let Some(zone) = launch.zone {
        request = request.placement(Placement::builder().availability_zone(zone).build());
    }
    let started = request
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    Ok(started
        .instances()
        .iter()
        .filter_map(|instance| instance.instance_id().map(str::to_owned))
        .collect())
}

/// Waits until every instance of `ids` runs, up to `limit`; returns them as they are then.
pub async fn wait_running(
    client: &Client,
    target: &Ec2Target,
    ids: &[String],
    limit: Duration,
) -> Result<Vec<Instance>, Ec2Error> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let found = client
            .describe_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|error| Ec2Error::from_sdk(error, target))?;
        let instances: Vec<Instance> = found
            .reservations()
            .iter()
            .flat_map(|reservation| reservation.instances().iter().map(convert::instance))
            .collect();
        let running = instances
            .iter()
            .all(|instance| instance.state == InstanceState::Running);
        if running || tokio::time::Instant::now() >= deadline {
            return Ok(instances);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn tagged(kind: ResourceType, tags: &BTreeMap<String, String>) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(kind)
        .set_tags(Some(
            tags.iter()
                .map(|(key, value)| Tag::builder().key(key).value(value).build())
                .collect(),
        ))
        .build()
}
