//! Cluster definitions as the console shows them.

use serde::{Deserialize, Serialize};

/// `GET /api/clusters`: every cluster knit can find, and the mistakes of the files it could not
/// read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterList {
    /// Clusters of every valid definition file, by name.
    pub clusters: Vec<ClusterSummary>,
    /// `file:line:column: message` of each mistake in the other files.
    pub errors: Vec<String>,
}

/// One cluster: where it lives, its machines and its scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSummary {
    /// The cluster's name, e.g. `production.mysite`.
    pub name: String,
    /// The definition file it comes from.
    pub file: String,
    /// Its AWS region, if it names one.
    pub region: Option<String>,
    /// Tags that mark its instances, e.g. `Stage=Production`.
    pub tags: Vec<(String, String)>,
    /// Its machines, by name.
    pub machines: Vec<MachineSummary>,
    /// Its scenarios, by name.
    pub scenarios: Vec<ScenarioSummary>,
    /// The run that holds the cluster's lock, if one is going.
    #[serde(default)]
    pub active_run: Option<crate::RunSummary>,
}

impl ClusterSummary {
    /// Production clusters (tag `Stage=Production`) ask for their name before a run.
    pub fn is_production(&self) -> bool {
        self.tags
            .iter()
            .any(|(key, value)| key == "Stage" && value.eq_ignore_ascii_case("production"))
    }
}

/// A group of machines of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineSummary {
    /// The machine's name, e.g. `frontend`.
    pub name: String,
    /// Existing hosts (`user@host:port`); empty for machines knit launches.
    pub hosts: Vec<String>,
    /// The AMI knit launches them from.
    pub ami: Option<String>,
    /// The instance type knit launches.
    pub instance_type: Option<String>,
    /// `(role, kind)` pairs, e.g. `("proxy", "nginx_proxy")`.
    pub roles: Vec<(String, String)>,
}

/// A named, ordered list of steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioSummary {
    /// The scenario's name, e.g. `deploy`.
    pub name: String,
    /// `role.task` or `ALL.task`, in order.
    pub steps: Vec<String>,
    /// Steps that run at the end even when an earlier one failed.
    pub finally: Vec<String>,
}
