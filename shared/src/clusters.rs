//! Cluster definitions as the console shows them.

use serde::{Deserialize, Serialize};

/// `GET /api/clusters`: every cluster knit can find, and the mistakes of the files it could not
/// read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterList {
    /// Clusters of every valid definition file, by name.
    pub clusters: Vec<ClusterSummary>,
    /// `file:line:column: message` of each mistake in the other files.
    pub errors: Vec<String>,
}

/// One cluster: where it lives, its machines and its scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Its firewall groups.
    #[serde(default)]
    pub firewall: Vec<FirewallSummary>,
    /// Accounts that may run it; anyone with the role may when empty.
    #[serde(default)]
    pub operators: Vec<String>,
    /// The run that holds the cluster's lock, if one is going.
    #[serde(default)]
    pub active_run: Option<crate::RunSummary>,
    /// A run starts only with the cluster's name typed (`"confirm"` of `POST /api/runs`).
    #[serde(default)]
    pub confirm: bool,
    /// While frozen, no run starts.
    #[serde(default)]
    pub frozen: Option<Freeze>,
    /// Who may approve the runs that need approval.
    #[serde(default)]
    pub approvers: Vec<String>,
    /// The scenarios whose runs need approval.
    #[serde(default)]
    pub approval: Vec<String>,
}

/// A freeze of a cluster: who froze it, since when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Freeze {
    /// What the person who froze it says, e.g. "release freeze until Monday".
    pub message: String,
    /// Who froze it.
    pub by: String,
    /// When, `YYYY-MM-DDTHH:MM:SS.sssZ`.
    pub since: String,
}

/// `POST /api/clusters/{name}/freeze`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FreezeRequest {
    /// Why, shown to everyone whose run is refused.
    pub message: String,
}

/// A group of machines of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Firewall groups (by name) its instances are in.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Instances knit found for a launched machine, with their state and address.
    #[serde(default)]
    pub instances: Vec<MachineInstance>,
}

/// An instance of a launched machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MachineInstance {
    /// Instance id.
    pub id: String,
    /// Its state, e.g. `running`.
    pub state: String,
    /// Its public address, else its private one.
    pub address: Option<String>,
    /// Its type's on-demand price in dollars an hour, from the list knit ships, if it has it.
    #[serde(default)]
    pub hourly_price: Option<String>,
}

/// Hours in an average month, as AWS's own calculator counts them.
pub const HOURS_A_MONTH: f64 = 730.0;

impl ClusterSummary {
    /// What its running instances cost an hour on demand, and how many of them have no price
    /// in knit's list; none while none runs.
    pub fn hourly_cost(&self) -> Option<(f64, usize)> {
        let running: Vec<&MachineInstance> = self
            .machines
            .iter()
            .flat_map(|machine| &machine.instances)
            .filter(|instance| instance.state == "running")
            .collect();
        if running.is_empty() {
            return None;
        }
        let prices: Vec<f64> = running
            .iter()
            .filter_map(|instance| instance.hourly_price.as_deref()?.parse().ok())
            .collect();
        Some((prices.iter().sum(), running.len() - prices.len()))
    }
}

/// A firewall group of a definition and its inbound rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FirewallSummary {
    /// The group's name.
    pub name: String,
    /// Its inbound rules.
    pub rules: Vec<RuleSummary>,
}

/// One inbound rule as written: `tcp`, `80`, `0.0.0.0/0` or a group's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleSummary {
    /// `tcp`, `udp`, `icmp` or `all`.
    pub proto: String,
    /// `22` or `8000-8080`.
    pub ports: String,
    /// A CIDR block or the name of a firewall group.
    pub from: String,
}

/// A named, ordered list of steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScenarioSummary {
    /// The scenario's name, e.g. `deploy`.
    pub name: String,
    /// `role.task` or `ALL.task`, in order.
    pub steps: Vec<String>,
    /// Steps that run at the end even when an earlier one failed.
    pub finally: Vec<String>,
    /// What may be given when it starts.
    #[serde(default)]
    pub params: Vec<crate::ScenarioParam>,
    /// When the server starts it by itself, if it has a schedule.
    #[serde(default)]
    pub schedule: Option<ScheduleSummary>,
}

/// A scenario's schedule as the cluster page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleSummary {
    /// The cron expression, e.g. `0 3 * * *`.
    pub cron: String,
    /// The zone it is read in, e.g. `UTC`.
    pub timezone: String,
    /// Whether an occurrence missed while no server ran is made up once at start.
    pub catch_up: bool,
    /// The next occurrence, in UTC (RFC 3339).
    pub next: Option<String>,
    /// Who paused it, if it is paused.
    pub paused_by: Option<String>,
    /// Its latest run.
    pub last_run: Option<crate::RunSummary>,
}

/// What a host of a cluster runs now: what it reported (`::knit-output name=value`) in the
/// latest run whose steps all ended well on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostRelease {
    /// The host's name in runs, e.g. `web-1`.
    pub host: String,
    /// What it reported, e.g. `release`, `commit`, `ref`.
    pub outputs: std::collections::BTreeMap<String, String>,
    /// The run it reported it in.
    pub run: i64,
    /// Who started that run.
    pub actor: String,
    /// When that run ended.
    pub at: String,
}

/// `GET /api/clusters/{name}/hosts`: the hosts a run of the cluster would use now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterHosts {
    /// In the order of the definition.
    pub hosts: Vec<ClusterHost>,
}

/// One host of a cluster, as runs name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterHost {
    /// `<machine>-<n>`, e.g. `web-2`.
    pub name: String,
    /// Its machine.
    pub machine: String,
    /// Where knit logs in.
    pub address: String,
    /// The roles its machine carries.
    pub roles: Vec<String>,
}

/// `GET /api/clusters/{name}/releases`: what each host runs now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseList {
    /// The cluster.
    pub cluster: String,
    /// Hosts that reported anything, by name.
    pub hosts: Vec<HostRelease>,
}
