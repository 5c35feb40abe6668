//! What the launch wizard chooses from: images, instance types, key pairs.

use serde::{Deserialize, Serialize};

use crate::Invalid;

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
    /// When EC2 marks (or marked) it deprecated, if ever.
    #[serde(default)]
    pub deprecation_time: Option<String>,
}

/// `GET /api/images`: images matching the query, newest first, at most [`IMAGE_LIMIT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImageList {
    /// The images.
    pub images: Vec<ImageSummary>,
    /// More images match than were read: refine the search to see them.
    pub more: bool,
}

/// Images one search answers with at most; EC2 is asked for no more pages once it has them.
pub const IMAGE_LIMIT: usize = 100;

/// `GET /api/images/quick-start`: the current images of the common distributions, as AWS and
/// the distributions publish them in the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuickStartList {
    /// One per distribution and architecture, in a fixed order.
    pub images: Vec<QuickStartImage>,
}

/// A distribution's current image in the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuickStartImage {
    /// e.g. `Ubuntu 24.04 LTS`.
    pub label: String,
    /// `x86_64` or `arm64`.
    pub architecture: String,
    /// The public parameter (AWS Systems Manager) that names the current image.
    pub parameter: String,
    /// The image it names; `None` when the region does not publish it.
    pub image: Option<ImageSummary>,
    /// The search that lists all its versions.
    pub search: ImageQuery,
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
    /// The region's default VPC; `None` where the account deleted it.
    #[serde(default)]
    pub default_vpc: Option<String>,
}

impl SubnetList {
    /// The VPC instances go in: `subnet`'s, or the default VPC when none is chosen. `None` for
    /// a subnet not listed, or a region without a default VPC.
    pub fn vpc_for(&self, subnet: Option<&str>) -> Option<&str> {
        match subnet {
            Some(id) => self
                .subnets
                .iter()
                .find(|s| s.id == id)
                .map(|s| s.vpc_id.as_str()),
            None => self.default_vpc.as_deref(),
        }
    }
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
    /// `amazon`, `self`, `aws-marketplace`, an account id, or `all` (public and community
    /// too) [default: amazon].
    pub owner: Option<String>,
    /// Words the name must contain, in order; a pattern with `*` or `?` as EC2 writes it; or an
    /// AMI id.
    pub q: Option<String>,
    /// `x86_64` or `arm64`.
    pub arch: Option<String>,
    /// `ebs` or `instance-store`.
    pub root_device: Option<String>,
    /// Include deprecated images [default: false].
    pub deprecated: Option<bool>,
}

/// Owners a search may name besides an account id.
pub const IMAGE_OWNERS: [&str; 4] = ["amazon", "self", "aws-marketplace", "all"];

impl ImageQuery {
    /// What is wrong with the query, in the words the search form shows.
    pub fn check(&self) -> Result<(), Invalid> {
        if let Some(owner) = self.owner.as_deref().filter(|o| !o.is_empty()) {
            let account = owner.len() == 12 && owner.bytes().all(|b| b.is_ascii_digit());
            if !account && !IMAGE_OWNERS.contains(&owner) {
                return Err(Invalid {
                    field: "owner",
                    message: format!(
                        "{owner:?} is not an owner: use amazon, self, aws-marketplace, all or a \
                         12-digit account id"
                    ),
                });
            }
        }
        let q = self.q.as_deref().unwrap_or_default();
        if q.chars().count() > 128 || q.chars().any(char::is_control) {
            return Err(Invalid {
                field: "q",
                message: "a search is at most 128 characters, on one line".to_owned(),
            });
        }
        let one_of = |field, value: Option<&str>, allowed: &[&str]| match value {
            Some(value) if !value.is_empty() && !allowed.contains(&value) => Err(Invalid {
                field,
                message: format!("{value:?} is not one of {}", allowed.join(", ")),
            }),
            _ => Ok(()),
        };
        one_of("arch", self.arch.as_deref(), &["x86_64", "arm64", "i386"])?;
        one_of(
            "root_device",
            self.root_device.as_deref(),
            &["ebs", "instance-store"],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(owner: &str, q: &str, arch: &str, root_device: &str) -> ImageQuery {
        ImageQuery {
            owner: Some(owner.to_owned()),
            q: Some(q.to_owned()),
            arch: Some(arch.to_owned()),
            root_device: Some(root_device.to_owned()),
            ..ImageQuery::default()
        }
    }

    #[test]
    fn instances_go_in_their_subnets_vpc_or_the_default_one() {
        let subnet = |id: &str, vpc: &str, default_for_zone| SubnetSummary {
            id: id.to_owned(),
            name: None,
            zone: "us-east-1a".to_owned(),
            cidr: "10.0.0.0/24".to_owned(),
            vpc_id: vpc.to_owned(),
            default_for_zone,
            available_addresses: 250,
        };
        let list = SubnetList {
            subnets: vec![
                subnet("subnet-1", "vpc-other", false),
                subnet("subnet-2", "vpc-default", true),
            ],
            default_vpc: Some("vpc-default".to_owned()),
        };
        assert_eq!(list.vpc_for(Some("subnet-1")), Some("vpc-other"));
        assert_eq!(list.vpc_for(None), Some("vpc-default"));
        assert_eq!(list.vpc_for(Some("subnet-9")), None);
        let no_default = SubnetList {
            subnets: vec![subnet("subnet-1", "vpc-other", false)],
            default_vpc: None,
        };
        assert_eq!(no_default.vpc_for(None), None);
    }

    #[test]
    fn searches_name_owners_and_filters_ec2_knows() {
        assert!(
            query("amazon", "ubuntu 24.04", "arm64", "ebs")
                .check()
                .is_ok()
        );
        assert!(query("099720109477", "", "", "").check().is_ok());
        assert!(ImageQuery::default().check().is_ok());
        let field = |q: ImageQuery| q.check().expect_err("refused").field;
        assert_eq!(field(query("canonical", "", "", "")), "owner");
        assert_eq!(field(query("0997201094", "", "", "")), "owner");
        assert_eq!(field(query("all", &"x".repeat(129), "", "")), "q");
        assert_eq!(field(query("all", "a\nb", "", "")), "q");
        assert_eq!(field(query("all", "", "sparc", "")), "arch");
        assert_eq!(field(query("all", "", "", "s3")), "root_device");
    }

    #[test]
    fn costs_scale_with_count_and_hours() {
        assert_eq!(cost("0.0104", 2, 1.0), Some(0.0208));
        let month = cost("0.0104", 2, HOURS_PER_MONTH).expect("a cost");
        assert!((month - 15.184).abs() < 1e-9, "{month}");
        assert_eq!(cost("n/a", 1, 1.0), None);
    }
}
