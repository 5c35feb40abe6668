//! After a launch: each instance from pending to running, through its status checks, until its
//! SSH port answers.

use serde::{Deserialize, Serialize};

use crate::InstanceState;

/// `GET /api/wizard/progress` query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ProgressQuery {
    /// AWS profile.
    pub profile: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// The instances, comma-separated.
    pub ids: String,
}

/// Where one new instance stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceProgress {
    /// `i-…`.
    pub id: String,
    /// Its state.
    pub state: InstanceState,
    /// EC2's status checks: `initializing`, `ok`, `impaired`, `insufficient-data`, or empty
    /// while EC2 reports none.
    pub checks: String,
    /// The address knit tries port 22 on: the public one, else the private one.
    pub address: Option<String>,
    /// Port 22 accepted a connection from knit.
    pub ssh: bool,
}

impl InstanceProgress {
    /// Running, checked, and reachable: ready to deploy to.
    pub fn ready(&self) -> bool {
        self.state == InstanceState::Running && self.checks == "ok" && self.ssh
    }

    /// Stopped or terminated on its way: it will not become ready by itself.
    pub fn gave_up(&self) -> bool {
        matches!(
            self.state,
            InstanceState::Stopping
                | InstanceState::Stopped
                | InstanceState::ShuttingDown
                | InstanceState::Terminated
        )
    }
}

/// One event of the progress stream: every instance, whenever one of them moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WizardProgress {
    /// In the order asked.
    pub instances: Vec<InstanceProgress>,
}

impl WizardProgress {
    /// Nothing more will happen without a person.
    pub fn settled(&self) -> bool {
        self.instances.iter().all(|i| i.ready() || i.gave_up())
    }
}
