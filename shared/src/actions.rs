//! Actions on instances: start, stop, reboot, terminate, and termination protection.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::instances::InstanceState;
use crate::validate::{self, Invalid};

/// Most instances one request may act on.
pub const MAX_INSTANCES_PER_ACTION: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
/// What to do to instances.
pub enum InstanceAction {
    /// Start stopped instances.
    Start,
    /// Stop running instances (EBS-backed only).
    Stop,
    /// Reboot running instances.
    Reboot,
    /// Terminate instances for good; needs confirmation.
    Terminate,
    /// Turn termination protection on.
    Protect,
    /// Turn termination protection off.
    Unprotect,
}

impl InstanceAction {
    /// The verb as a person reads it in a button or a log.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Stop => "stop",
            Self::Reboot => "reboot",
            Self::Terminate => "terminate",
            Self::Protect => "protect",
            Self::Unprotect => "unprotect",
        }
    }

    /// The least role that may do this: deployers start, stop and reboot; the rest is an
    /// admin's.
    pub fn needs(self) -> crate::Role {
        match self {
            Self::Start | Self::Stop | Self::Reboot => crate::Role::Deployer,
            Self::Terminate | Self::Protect | Self::Unprotect => crate::Role::Admin,
        }
    }
}

/// `POST /api/instances/actions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionRequest {
    /// AWS credentials profile of the knit server to use; the server's own when absent.
    #[serde(default)]
    pub profile: Option<String>,
    /// Region of the instances; the server's default when absent.
    #[serde(default)]
    pub region: Option<String>,
    /// What to do.
    pub action: InstanceAction,
    /// The instances to do it to, at most `MAX_INSTANCES_PER_ACTION`.
    pub instance_ids: Vec<String>,
    /// For `terminate`: the same ids again, typed or confirmed by the person. Terminating is
    /// refused unless this names exactly the instances of `instance_ids`.
    #[serde(default)]
    pub confirm: Vec<String>,
}

impl ActionRequest {
    /// Checks the request as the server will: region, ids, and confirmation of a terminate.
    pub fn validate(&self) -> Result<(), Invalid> {
        if let Some(region) = &self.region {
            validate::region(region)?;
        }
        if self.instance_ids.is_empty() {
            return Err(Invalid {
                field: "instance_ids",
                message: "name at least one instance".to_owned(),
            });
        }
        if self.instance_ids.len() > MAX_INSTANCES_PER_ACTION {
            return Err(Invalid {
                field: "instance_ids",
                message: format!("at most {MAX_INSTANCES_PER_ACTION} instances per request"),
            });
        }
        self.instance_ids
            .iter()
            .try_for_each(|id| validate::instance_id(id))?;
        let unique: BTreeSet<&String> = self.instance_ids.iter().collect();
        if unique.len() != self.instance_ids.len() {
            return Err(Invalid {
                field: "instance_ids",
                message: "an instance is named twice".to_owned(),
            });
        }
        if self.action == InstanceAction::Terminate {
            let confirmed: BTreeSet<&String> = self.confirm.iter().collect();
            if confirmed != unique {
                return Err(Invalid {
                    field: "confirm",
                    message: "terminating needs confirmation: list exactly the instances to terminate in `confirm`".to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// What became of one instance of an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionOutcome {
    /// The instance this outcome is about.
    pub instance_id: String,
    /// Whether EC2 did what was asked for this instance.
    pub ok: bool,
    /// What happened, e.g. "stopping" or "is protected against termination; ...".
    pub message: String,
    /// The state EC2 reported after the call, when it did.
    pub state: Option<InstanceState>,
}

/// The answer to an action: one outcome per instance, in the order asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionResponse {
    /// The action that was carried out.
    pub action: InstanceAction,
    /// One per instance of the request.
    pub outcomes: Vec<ActionOutcome>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(action: InstanceAction, ids: &[&str], confirm: &[&str]) -> ActionRequest {
        ActionRequest {
            profile: None,
            region: None,
            action,
            instance_ids: ids.iter().map(|s| s.to_string()).collect(),
            confirm: confirm.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn terminate_needs_every_instance_confirmed() {
        let ids = ["i-1234abcd", "i-5678abcd"];
        assert!(
            request(InstanceAction::Terminate, &ids, &ids)
                .validate()
                .is_ok()
        );
        let missing = request(InstanceAction::Terminate, &ids, &["i-1234abcd"]).validate();
        assert_eq!(missing.expect_err("refused").field, "confirm");
        let empty = request(InstanceAction::Terminate, &ids, &[]).validate();
        assert_eq!(empty.expect_err("refused").field, "confirm");
        assert!(request(InstanceAction::Stop, &ids, &[]).validate().is_ok());
    }

    #[test]
    fn ids_must_be_present_well_formed_and_distinct() {
        assert!(request(InstanceAction::Stop, &[], &[]).validate().is_err());
        assert!(
            request(InstanceAction::Stop, &["i-xyz"], &[])
                .validate()
                .is_err()
        );
        let twice = request(InstanceAction::Stop, &["i-1234abcd", "i-1234abcd"], &[]);
        assert!(twice.validate().is_err());
    }
}
