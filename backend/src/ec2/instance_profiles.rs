//! IAM instance profiles, for the launch wizard to offer: IAM is global, not per region.

use knit_shared::InstanceProfileSummary;

use super::{Ec2Error, Ec2Target, client};

/// The account's instance profiles, by name.
pub async fn list(target: &Ec2Target) -> Result<Vec<InstanceProfileSummary>, Ec2Error> {
    let iam = client::iam(target).await;
    let mut pages = iam.list_instance_profiles().into_paginator().send();
    let mut profiles = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        profiles.extend(page.instance_profiles().iter().map(|profile| {
            InstanceProfileSummary {
                name: profile.instance_profile_name().to_owned(),
                arn: profile.arn().to_owned(),
                roles: profile
                    .roles()
                    .iter()
                    .map(|role| role.role_name().to_owned())
                    .collect(),
            }
        }));
    }
    profiles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(profiles)
}
