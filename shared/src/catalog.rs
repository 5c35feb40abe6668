//! What the launch wizard chooses from: images, instance types, key pairs.

use serde::{Deserialize, Serialize};

/// An AMI as the wizard lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageSummary {
    /// `ami-…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The owning account, or its alias (`amazon`).
    pub owner: String,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// `Linux/UNIX` or `Windows`.
    pub platform: String,
    /// `ebs` (can be stopped and started, the disk stays) or `instance-store` (cannot be
    /// stopped; the disk is gone when it ends).
    pub root_device_type: String,
    /// `hvm` or `paravirtual`.
    pub virtualization: String,
    /// When it was made.
    pub creation_date: String,
}

/// `GET /api/images`: images matching the query, at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageList {
    /// The images.
    pub images: Vec<ImageSummary>,
    /// How many matched before the limit.
    pub total: usize,
}

/// An instance type as the wizard lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceTypeSummary {
    /// e.g. `t3.micro`.
    pub name: String,
    /// Virtual CPUs.
    pub vcpus: i32,
    /// Memory in MiB.
    pub memory_mib: i64,
    /// e.g. `Up to 5 Gigabit`.
    pub network: String,
    /// Architectures it runs (`x86_64`, `arm64`).
    pub architectures: Vec<String>,
    /// On-demand Linux price, dollars per hour, when knit's price list has one.
    #[serde(default)]
    pub on_demand_hourly: Option<String>,
    /// The lowest current spot price among the region's zones, dollars per hour.
    #[serde(default)]
    pub spot_hourly: Option<String>,
}

/// `GET /api/instance-types`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceTypeList {
    /// Every type of the region, by name.
    pub instance_types: Vec<InstanceTypeSummary>,
    /// Where the prices come from, and when they were read.
    #[serde(default)]
    pub prices: PriceSources,
}

/// Where the prices of an instance type list come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceSources {
    /// The on-demand prices' source and date.
    pub on_demand: String,
    /// The spot prices' source and when they were read, or why there are none.
    pub spot: String,
}

/// Dollars for `hours` of `count` instances at `hourly` (a price as EC2 writes it).
pub fn cost(hourly: &str, count: u32, hours: f64) -> Option<f64> {
    hourly
        .parse::<f64>()
        .ok()
        .map(|price| price * f64::from(count) * hours)
}

/// Hours in an average month, as AWS's price calculator counts them.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// A subnet the instances may go in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubnetSummary {
    /// `subnet-…`.
    pub id: String,
    /// Its `Name` tag, if any.
    pub name: Option<String>,
    /// Its availability zone.
    pub zone: String,
    /// Its address block.
    pub cidr: String,
    /// Its VPC.
    pub vpc_id: String,
    /// The default VPC's subnet of its zone (EC2's choice when none is given).
    pub default_for_zone: bool,
    /// Addresses still free.
    pub available_addresses: i32,
}

/// `GET /api/subnets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubnetList {
    /// The region's subnets, by zone.
    pub subnets: Vec<SubnetSummary>,
}

/// An IAM instance profile: the role an instance's software acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceProfileSummary {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The roles it carries (at most one).
    pub roles: Vec<String>,
}

/// `GET /api/instance-profiles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceProfileList {
    /// The account's instance profiles, by name.
    pub instance_profiles: Vec<InstanceProfileSummary>,
}

/// `GET /api/key-pairs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyPairList {
    /// Names of the region's key pairs.
    pub key_pairs: Vec<String>,
}

/// `GET /api/images` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ImageQuery {
    /// AWS profile.
    pub profile: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// `amazon`, `self` or `all` (public and community too) [default: amazon].
    pub owner: Option<String>,
    /// Words the name, description or id must contain.
    pub q: Option<String>,
    /// `x86_64` or `arm64`.
    pub arch: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_scale_with_count_and_hours() {
        assert_eq!(cost("0.0104", 2, 1.0), Some(0.0208));
        let month = cost("0.0104", 2, HOURS_PER_MONTH).expect("a cost");
        assert!((month - 15.184).abs() < 1e-9, "{month}");
        assert_eq!(cost("n/a", 1, 1.0), None);
    }
}
