//! The regions an account can use.

use aws_sdk_ec2::Client;

use super::{Ec2Error, Ec2Target};

/// Names of the regions enabled for the account, sorted.
pub async fn describe_regions(
    client: &Client,
    target: &Ec2Target,
) -> Result<Vec<String>, Ec2Error> {
    let answer = client
        .describe_regions()
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    let mut names: Vec<String> = answer
        .regions()
        .iter()
        .filter_map(|region| region.region_name().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// Names of the availability zones of the client's region that are available, sorted.
pub async fn describe_zones(client: &Client, target: &Ec2Target) -> Result<Vec<String>, Ec2Error> {
    let answer = client
        .describe_availability_zones()
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    let mut names: Vec<String> = answer
        .availability_zones()
        .iter()
        .filter(|zone| {
            zone.state()
                .is_none_or(|state| state.as_str() == "available")
        })
        .filter_map(|zone| zone.zone_name().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}
