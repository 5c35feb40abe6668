//! What the launch wizard offers: the region's instance types, subnets, key pairs (images are
//! searched in `images`).

use aws_sdk_ec2::Client;
use knit_shared::{InstanceTypeSummary, SubnetSummary};

use super::{Ec2Error, Ec2Target};

/// Every instance type of the region, by name.
pub async fn describe_instance_types(
    client: &Client,
    target: &Ec2Target,
) -> Result<Vec<InstanceTypeSummary>, Ec2Error> {
    let mut pages = client.describe_instance_types().into_paginator().send();
    let mut types = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        types.extend(page.instance_types().iter().map(|info| {
            InstanceTypeSummary {
                name: info.instance_type().map_or("", |t| t.as_str()).to_owned(),
                vcpus: info
                    .v_cpu_info()
                    .and_then(|v| v.default_v_cpus())
                    .unwrap_or(0),
                memory_mib: info
                    .memory_info()
                    .and_then(|m| m.size_in_mib())
                    .unwrap_or(0),
                network: info
                    .network_info()
                    .and_then(|n| n.network_performance())
                    .unwrap_or_default()
                    .to_owned(),
                architectures: info
                    .processor_info()
                    .map(|p| {
                        p.supported_architectures()
                            .iter()
                            .map(|a| a.as_str().to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
                on_demand_hourly: None,
                spot_hourly: None,
            }
        }));
    }
    types.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(types)
}

/// The region's available subnets, by zone then address block.
pub async fn describe_subnets(
    client: &Client,
    target: &Ec2Target,
) -> Result<Vec<SubnetSummary>, Ec2Error> {
    let mut pages = client.describe_subnets().into_paginator().send();
    let mut subnets = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        subnets.extend(page.subnets().iter().map(|subnet| {
            SubnetSummary {
                id: subnet.subnet_id().unwrap_or_default().to_owned(),
                name: subnet
                    .tags()
                    .iter()
                    .find(|tag| tag.key() == Some("Name"))
                    .and_then(|tag| tag.value().map(str::to_owned)),
                zone: subnet.availability_zone().unwrap_or_default().to_owned(),
                cidr: subnet.cidr_block().unwrap_or_default().to_owned(),
                vpc_id: subnet.vpc_id().unwrap_or_default().to_owned(),
                default_for_zone: subnet.default_for_az().unwrap_or(false),
                available_addresses: subnet.available_ip_address_count().unwrap_or(0),
            }
        }));
    }
    subnets.sort_by(|a, b| (&a.zone, &a.cidr).cmp(&(&b.zone, &b.cidr)));
    Ok(subnets)
}

/// Names of the region's key pairs.
pub async fn describe_key_pairs(
    client: &Client,
    target: &Ec2Target,
) -> Result<Vec<String>, Ec2Error> {
    let found = client
        .describe_key_pairs()
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    let mut names: Vec<String> = found
        .key_pairs()
        .iter()
        .filter_map(|key| key.key_name().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}
