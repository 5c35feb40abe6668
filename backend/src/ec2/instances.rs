//! Reading instances: every page of DescribeInstances, to the end.

use aws_sdk_ec2::Client;
use knit_shared::Instance;

use super::{Ec2Error, Ec2Target, convert};

/// All instances of the client's region, following EC2's pagination until no token is left.
pub async fn describe_all(
    client: &Client,
    target: &Ec2Target,
    page_size: i32,
) -> Result<Vec<Instance>, Ec2Error> {
    let mut pages = client
        .describe_instances()
        .max_results(page_size)
        .into_paginator()
        .send();
    let mut instances = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        for reservation in page.reservations() {
            instances.extend(reservation.instances().iter().map(convert::instance));
        }
    }
    Ok(instances)
}
