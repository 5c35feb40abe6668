//! Finding a cluster's launched machines: running instances carrying every tag of the cluster
//! and the machine's name in the `knit:machine` tag.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Filter;
use knit_shared::Instance;

use super::{Ec2Error, Ec2Target, convert};

/// The tag that names a machine of a cluster definition on its instances.
pub const MACHINE_TAG: &str = "knit:machine";

/// The address of `instance` that `connect` names (`public_ip`, `private_ip`, `public_dns`).
pub fn connect_address(instance: &Instance, connect: &str) -> Option<String> {
    match connect {
        "private_ip" => instance.private_ip.clone(),
        "public_dns" => instance.public_dns.clone().filter(|dns| !dns.is_empty()),
        _ => instance.public_ip.clone(),
    }
}

/// Instances of `machine` in the cluster tagged `tags` in one of `states` (e.g. `running`),
/// oldest first.
pub async fn machine_instances(
    client: &Client,
    target: &Ec2Target,
    tags: &BTreeMap<String, String>,
    machine: &str,
    states: &[&str],
) -> Result<Vec<Instance>, Ec2Error> {
    let tag_filter = |key: &str, value: &str| {
        Filter::builder()
            .name(format!("tag:{key}"))
            .values(value)
            .build()
    };
    let mut request = client
        .describe_instances()
        .filters(tag_filter(MACHINE_TAG, machine))
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .set_values(Some(states.iter().map(|s| (*s).to_owned()).collect()))
                .build(),
        );
    for (key, value) in tags {
        request = request.filters(tag_filter(key, value));
    }
    let mut pages = request.into_paginator().send();
    let mut instances = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        for reservation in page.reservations() {
            instances.extend(reservation.instances().iter().map(convert::instance));
        }
    }
    instances.sort_by(|a, b| (&a.launch_time, &a.id).cmp(&(&b.launch_time, &b.id)));
    Ok(instances)
}
