//! A cluster's footprint in EC2: its security groups with their rules, and the calls that
//! create groups, change rules and start instances for `launch`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    Filter, InstanceType, IpPermission, IpRange, Placement, ResourceType, SecurityGroup, Tag,
    TagSpecification, UserIdGroupPair,
};
use knit_shared::{Instance, InstanceState};

use super::rules::{Rule, Source};
use super::{CLUSTER_TAG, Ec2Error, Ec2Target, convert};

/// A security group as found, with its inbound rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    pub id: String,
    pub name: String,
    pub rules: Vec<Rule>,
}

/// The tag that names, on a security group, the firewall group of the definition it stands for.
pub const FIREWALL_TAG: &str = "knit:firewall";

/// The name in EC2 of firewall group `group` of `cluster`. Names are unique per VPC, so the
/// cluster's name keeps two clusters that both define `[firewall.web]` apart.
pub fn group_name(cluster: &str, group: &str) -> String {
    format!("{cluster}-{group}")
}

/// The security groups of `cluster` (tagged `knit:cluster` with its name), each named by the
/// firewall group it stands for: its `knit:firewall` tag or, for a group knit created before
/// it wrote that tag, its own name. Groups of the same name that are not the cluster's are
/// never among them. Sources that are groups of the cluster are named the same way.
pub async fn cluster_groups(
    client: &Client,
    target: &Ec2Target,
    cluster: &str,
) -> Result<Vec<GroupState>, Ec2Error> {
    let mut pages = client
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name(format!("tag:{CLUSTER_TAG}"))
                .values(cluster)
                .build(),
        )
        .into_paginator()
        .send();
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        groups.extend(page.security_groups().iter().cloned());
    }
    let firewall_name = |group: &SecurityGroup| {
        group
            .tags()
            .iter()
            .find(|tag| tag.key() == Some(FIREWALL_TAG))
            .and_then(|tag| tag.value())
            .or(group.group_name())
            .unwrap_or_default()
            .to_owned()
    };
    let name_of: BTreeMap<String, String> = groups
        .iter()
        .filter_map(|g| Some((g.group_id()?.to_owned(), firewall_name(g))))
        .collect();
    Ok(groups
        .iter()
        .map(|group| GroupState {
            id: group.group_id().unwrap_or_default().to_owned(),
            name: firewall_name(group),
            rules: group
                .ip_permissions()
                .iter()
                .flat_map(|permission| rules_of(permission, &name_of))
                .collect(),
        })
        .collect())
}

fn rules_of(permission: &IpPermission, name_of: &BTreeMap<String, String>) -> Vec<Rule> {
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
                name_of.get(id).map_or(id, String::as_str).to_owned(),
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

/// Creates the security group of firewall group `group` of `cluster` in the default VPC,
/// tagged with `tags` and as the cluster's (see `cluster_groups`); returns its id.
pub async fn create_cluster_group(
    client: &Client,
    target: &Ec2Target,
    cluster: &str,
    group: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String, Ec2Error> {
    let mut tags = tags.clone();
    tags.insert(CLUSTER_TAG.to_owned(), cluster.to_owned());
    tags.insert(FIREWALL_TAG.to_owned(), group.to_owned());
    let description = format!("{group} of cluster {cluster} (knit)");
    let name = group_name(cluster, group);
    create_group(client, target, &name, &description, None, &tags).await
}

/// Creates group `name` in VPC `vpc_id` (the default VPC when `None`), tagged with `tags`;
/// returns its id.
pub async fn create_group(
    client: &Client,
    target: &Ec2Target,
    name: &str,
    description: &str,
    vpc_id: Option<&str>,
    tags: &BTreeMap<String, String>,
) -> Result<String, Ec2Error> {
    let mut request = client
        .create_security_group()
        .group_name(name)
        .description(description)
        .set_vpc_id(vpc_id.map(str::to_owned));
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
/// EC2 may not know instances for a few seconds after starting them (its reads are
/// eventually consistent): that answer means "not yet", not a failure, until `limit`.
pub async fn wait_running(
    client: &Client,
    target: &Ec2Target,
    ids: &[String],
    limit: Duration,
) -> Result<Vec<Instance>, Ec2Error> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut pause = Duration::from_millis(250);
    loop {
        let found = client
            .describe_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|error| Ec2Error::from_sdk(error, target));
        let past_deadline = tokio::time::Instant::now() >= deadline;
        match found {
            Ok(found) => {
                let instances: Vec<Instance> = found
                    .reservations()
                    .iter()
                    .flat_map(|reservation| reservation.instances().iter().map(convert::instance))
                    .collect();
                let running = instances
                    .iter()
                    .all(|instance| instance.state == InstanceState::Running);
                if running || past_deadline {
                    return Ok(instances);
                }
            }
            Err(Ec2Error::Refused { code, .. })
                if code == "InvalidInstanceID.NotFound" && !past_deadline =>
            {
                tracing::debug!(?ids, "EC2 does not know the new instances yet");
            }
            Err(error) => return Err(error),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
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
