//! Finding a cluster's launched machines: running instances tagged with the cluster's name
//! (`knit:cluster`), every tag of the cluster, and the machine's name (`knit:machine`).
//! The cluster's name is what keeps two clusters apart: their tags and machine names may
//! overlap.

use std::collections::BTreeMap;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Filter;
use knit_shared::Instance;

use super::{Ec2Error, Ec2Target, convert};

/// The tag that names the cluster on everything knit creates for it.
pub const CLUSTER_TAG: &str = "knit:cluster";
/// The tag that names a machine of a cluster definition on its instances.
pub const MACHINE_TAG: &str = "knit:machine";

/// Which cluster's machine an instance must belong to.
#[derive(Debug, Clone, Copy)]
pub struct MachineOf<'a> {
    pub cluster: &'a str,
    pub tags: &'a BTreeMap<String, String>,
    pub machine: &'a str,
}

impl MachineOf<'_> {
    /// Every tag the instance must carry, with its value.
    fn required_tags(&self) -> impl Iterator<Item = (&str, &str)> {
        [(CLUSTER_TAG, self.cluster), (MACHINE_TAG, self.machine)]
            .into_iter()
            .chain(self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Whether `tags` (an instance's) mark it as this machine's.
    pub fn matches(&self, tags: &BTreeMap<String, String>) -> bool {
        self.required_tags()
            .all(|(key, value)| tags.get(key).is_some_and(|v| v == value))
    }
}

/// The address of `instance` that `connect` names (`public_ip`, `private_ip`, `public_dns`).
pub fn connect_address(instance: &Instance, connect: &str) -> Option<String> {
    match connect {
        "private_ip" => instance.private_ip.clone(),
        "public_dns" => instance.public_dns.clone().filter(|dns| !dns.is_empty()),
        _ => instance.public_ip.clone(),
    }
}

/// Instances of `machine` in one of `states` (e.g. `running`), oldest first.
pub async fn machine_instances(
    client: &Client,
    target: &Ec2Target,
    machine: MachineOf<'_>,
    states: &[&str],
) -> Result<Vec<Instance>, Ec2Error> {
    let mut request = client.describe_instances().filters(
        Filter::builder()
            .name("instance-state-name")
            .set_values(Some(states.iter().map(|s| (*s).to_owned()).collect()))
            .build(),
    );
    for (key, value) in machine.required_tags() {
        request = request.filters(
            Filter::builder()
                .name(format!("tag:{key}"))
                .values(value)
                .build(),
        );
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
