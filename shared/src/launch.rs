//! What `launch` would change in EC2 to match a cluster definition.

use serde::{Deserialize, Serialize};

/// `GET /api/clusters/{name}/changes`: the changes `launch` would make, in the order it makes them;
/// empty when EC2 already matches the definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LaunchChanges {
    /// The cluster's name.
    pub cluster: String,
    /// What would be created, added or removed.
    pub changes: Vec<Change>,
}

/// One change to EC2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// A security group of the firewall section that does not exist yet.
    CreateGroup {
        /// The group's name.
        group: String,
    },
    /// An inbound rule the group lacks, as `tcp 80 from 0.0.0.0/0`.
    AddRule {
        /// The group's name.
        group: String,
        /// The rule.
        rule: String,
    },
    /// An inbound rule the group has and the definition does not.
    RemoveRule {
        /// The group's name.
        group: String,
        /// The rule.
        rule: String,
    },
    /// Instances to start for a machine that has fewer than its count.
    Launch {
        /// The machine's name.
        machine: String,
        /// How many more.
        count: u32,
        /// Its AMI.
        ami: String,
        /// Its instance type.
        instance_type: String,
    },
}

impl Change {
    /// The change in words, e.g. `launch 2 × t3.micro (ami-1) for web`.
    pub fn describe(&self) -> String {
        match self {
            Self::CreateGroup { group } => format!("create security group {group}"),
            Self::AddRule { group, rule } => format!("add rule {rule} to {group}"),
            Self::RemoveRule { group, rule } => format!("remove rule {rule} from {group}"),
            Self::Launch {
                machine,
                count,
                ami,
                instance_type,
            } => format!("launch {count} × {instance_type} ({ami}) for {machine}"),
        }
    }
}
