//! Reading security groups with their inbound rules.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types as aws;
use knit_shared::{InboundRule, SecurityGroup};

use super::convert::filter;
use super::{Ec2Error, Ec2Target};

/// The groups named by `ids`, or every group of the region when `ids` is empty; only those of
/// `vpc` when given.
pub async fn describe_security_groups(
    client: &Client,
    target: &Ec2Target,
    ids: &[String],
    vpc: Option<&str>,
) -> Result<Vec<SecurityGroup>, Ec2Error> {
    let in_vpc = vpc.map(|id| vec![filter("vpc-id", [id.to_owned()])]);
    let mut pages = client
        .describe_security_groups()
        .set_group_ids((!ids.is_empty()).then(|| ids.to_vec()))
        .set_filters(in_vpc)
        .into_paginator()
        .send();
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        groups.extend(page.security_groups().iter().map(group));
    }
    Ok(groups)
}

fn group(from: &aws::SecurityGroup) -> SecurityGroup {
    SecurityGroup {
        id: from.group_id().unwrap_or_default().to_owned(),
        name: from.group_name().unwrap_or_default().to_owned(),
        description: from.description().unwrap_or_default().to_owned(),
        vpc_id: from.vpc_id().map(str::to_owned),
        inbound: from.ip_permissions().iter().map(rule).collect(),
    }
}

fn rule(from: &aws::IpPermission) -> InboundRule {
    let protocol = match from.ip_protocol().unwrap_or("-1") {
        "-1" => "all".to_owned(),
        other => other.to_owned(),
    };
    let sources = from
        .ip_ranges()
        .iter()
        .filter_map(|range| range.cidr_ip().map(str::to_owned))
        .chain(
            from.ipv6_ranges()
                .iter()
                .filter_map(|range| range.cidr_ipv6().map(str::to_owned)),
        )
        .chain(
            from.user_id_group_pairs()
                .iter()
                .filter_map(|pair| pair.group_id().map(str::to_owned)),
        )
        .collect();
    InboundRule {
        protocol,
        from_port: from.from_port(),
        to_port: from.to_port(),
        sources,
    }
}
