//! Security groups and their inbound rules, as the console shows them.

use serde::{Deserialize, Serialize};

/// One inbound rule: traffic of `protocol` on ports `from_port..=to_port` from `sources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboundRule {
    /// `tcp`, `udp`, `icmp`, or `all`.
    pub protocol: String,
    /// `None` for protocols without ports (or all of them).
    pub from_port: Option<i32>,
    /// Last port of the range; see `from_port`.
    pub to_port: Option<i32>,
    /// CIDR blocks (IPv4 and IPv6) and security group ids.
    pub sources: Vec<String>,
}

impl InboundRule {
    /// `22`, `8000-8080`, or `all`.
    pub fn ports(&self) -> String {
        // EC2 says -1 for "every port" (and for ICMP's every type).
        match (self.from_port, self.to_port) {
            (Some(from), Some(to)) if from >= 0 && from == to => from.to_string(),
            (Some(from), Some(to)) if from >= 0 => format!("{from}-{to}"),
            _ => "all".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
/// A security group with its inbound rules.
pub struct SecurityGroup {
    /// `sg-...`.
    pub id: String,
    /// The group's name, unique in its VPC.
    pub name: String,
    /// What the group is for, as its creator wrote.
    pub description: String,
    /// The VPC it belongs to.
    pub vpc_id: Option<String>,
    /// What may reach members of the group.
    pub inbound: Vec<InboundRule>,
}

/// `GET /api/security-groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecurityGroupList {
    /// The region listed.
    pub region: String,
    /// The groups asked for.
    pub groups: Vec<SecurityGroup>,
}

/// The query string of `GET /api/security-groups`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct SecurityGroupQuery {
    /// AWS credentials profile of the knit server to use.
    pub profile: Option<String>,
    /// Region to look in.
    pub region: Option<String>,
    /// Comma-separated group ids; all groups of the region when absent.
    pub ids: Option<String>,
    /// Only the groups of this VPC.
    pub vpc_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::InboundRule;

    fn rule(from: Option<i32>, to: Option<i32>) -> InboundRule {
        InboundRule {
            protocol: "tcp".into(),
            from_port: from,
            to_port: to,
            sources: vec![],
        }
    }

    #[test]
    fn ports_read_as_a_person_writes_them() {
        assert_eq!(rule(Some(22), Some(22)).ports(), "22");
        assert_eq!(rule(Some(8000), Some(8080)).ports(), "8000-8080");
        assert_eq!(rule(None, None).ports(), "all");
        assert_eq!(rule(Some(-1), Some(-1)).ports(), "all");
    }
}
