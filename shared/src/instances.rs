//! EC2 instances as the console shows them, and how a list of them is filtered and sorted.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The lifecycle state of an instance, as EC2 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    /// Launching or starting.
    Pending,
    /// Running, and billed.
    Running,
    /// Being terminated.
    ShuttingDown,
    /// Gone; listed by EC2 for about an hour.
    Terminated,
    /// Being stopped.
    Stopping,
    /// Stopped; its EBS volumes are kept (and billed).
    Stopped,
    /// A state this version of knit does not know.
    Unknown,
}

impl InstanceState {
    /// Every known state, in the order a filter lists them.
    pub const ALL: [InstanceState; 6] = [
        Self::Pending,
        Self::Running,
        Self::Stopping,
        Self::Stopped,
        Self::ShuttingDown,
        Self::Terminated,
    ];

    /// The name EC2 uses, e.g. `shutting-down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::ShuttingDown => "shutting-down",
            Self::Terminated => "terminated",
            Self::Stopping => "stopping",
            Self::Stopped => "stopped",
            Self::Unknown => "unknown",
        }
    }

    /// Parses EC2's name of a state; anything else is `Unknown`.
    pub fn parse(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|state| state.as_str() == name)
            .unwrap_or(Self::Unknown)
    }

    /// A state EC2 is moving out of by itself.
    pub fn is_transitional(self) -> bool {
        matches!(self, Self::Pending | Self::Stopping | Self::ShuttingDown)
    }
}

/// A security group an instance belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupRef {
    /// `sg-...`.
    pub id: String,
    /// The group's name.
    pub name: String,
}

/// One EC2 instance with what the console shows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Instance {
    /// `i-0123456789abcdef0`.
    pub id: String,
    /// The value of the `Name` tag, if any.
    pub name: Option<String>,
    /// Lifecycle state.
    pub state: InstanceState,
    /// e.g. `t3.micro`.
    pub instance_type: String,
    /// The AMI it was launched from.
    pub image_id: Option<String>,
    /// e.g. `eu-west-1a`.
    pub availability_zone: Option<String>,
    /// RFC 3339, UTC.
    pub launch_time: Option<String>,
    /// Public IPv4 address, while it has one.
    pub public_ip: Option<String>,
    /// Private IPv4 address in its VPC.
    pub private_ip: Option<String>,
    /// Public DNS name, while it has one.
    pub public_dns: Option<String>,
    /// Private DNS name.
    pub private_dns: Option<String>,
    /// The key pair named at launch.
    pub key_name: Option<String>,
    /// The security groups it belongs to.
    pub security_groups: Vec<GroupRef>,
    /// CloudWatch detailed monitoring: `enabled`, `disabled`, `pending` or `disabling`.
    pub monitoring: String,
    /// `spot`, `scheduled`, `capacity-block`, or `on-demand`.
    pub lifecycle: String,
    /// e.g. `Linux/UNIX` or `Windows`.
    pub platform: String,
    /// Every tag, by key.
    pub tags: BTreeMap<String, String>,
    /// Not EC2's but knit's own look: whether an SSH server answered on port 22 of a running
    /// instance (the public address, else the private one); absent until the first try ends,
    /// and for an instance not running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<bool>,
}

/// `GET /api/instances`: the instances of one region that match the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceList {
    /// The region listed.
    pub region: String,
    /// The instances that match the query, in its order.
    pub instances: Vec<Instance>,
    /// How many instances the region has before filtering.
    pub total: usize,
    /// When knit last read them from EC2 (RFC 3339); a list may come from knit's short cache.
    pub fetched_at: String,
}

/// A column to sort the list by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// The Name tag; unnamed instances last.
    #[default]
    Name,
    /// The instance id.
    Id,
    /// The state's name.
    State,
    /// The instance type.
    InstanceType,
    /// The availability zone.
    AvailabilityZone,
    /// When it was launched.
    LaunchTime,
    /// The public IP, numerically.
    PublicIp,
    /// The private IP, numerically.
    PrivateIp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
/// Which way to sort.
pub enum SortOrder {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// The query string of `GET /api/instances`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct InstanceQuery {
    /// AWS credentials profile of the knit server to use; the server's own when absent.
    pub profile: Option<String>,
    /// Region to list; the server's default region when absent.
    pub region: Option<String>,
    /// Only instances in this state.
    pub state: Option<InstanceState>,
    /// `key=value` (or `key` alone: any value).
    pub tag: Option<String>,
    /// Free text matched, case-insensitively, against id, name, IPs, DNS names and tags.
    pub q: Option<String>,
    /// The column to sort by; the Name tag when absent.
    pub sort: Option<SortKey>,
    /// Ascending when absent.
    pub order: Option<SortOrder>,
    /// Read EC2 now instead of knit's short cache.
    #[serde(default)]
    pub refresh: bool,
}

impl InstanceQuery {
    /// Whether `instance` passes the state, tag and text filters.
    pub fn matches(&self, instance: &Instance) -> bool {
        self.state.is_none_or(|state| instance.state == state)
            && self.tag.as_deref().is_none_or(|tag| has_tag(instance, tag))
            && self
                .q
                .as_deref()
                .is_none_or(|text| mentions(instance, text))
    }

    /// Filters and sorts `instances` as the query asks.
    pub fn apply(&self, instances: &[Instance]) -> Vec<Instance> {
        let mut kept: Vec<Instance> = instances
            .iter()
            .filter(|instance| self.matches(instance))
            .cloned()
            .collect();
        let key = self.sort.unwrap_or_default();
        kept.sort_by(|a, b| {
            let order = compare(a, b, key).then_with(|| a.id.cmp(&b.id));
            match self.order.unwrap_or_default() {
                SortOrder::Asc => order,
                SortOrder::Desc => order.reverse(),
            }
        });
        kept
    }
}

fn has_tag(instance: &Instance, filter: &str) -> bool {
    match filter.split_once('=') {
        Some((key, value)) => instance.tags.get(key).is_some_and(|v| v == value),
        None => instance.tags.contains_key(filter),
    }
}

fn mentions(instance: &Instance, text: &str) -> bool {
    let needle = text.trim().to_lowercase();
    if needle.is_empty() {
        return true;
    }
    let fields = [
        Some(&instance.id),
        instance.name.as_ref(),
        instance.public_ip.as_ref(),
        instance.private_ip.as_ref(),
        instance.public_dns.as_ref(),
        instance.private_dns.as_ref(),
    ];
    fields
        .into_iter()
        .flatten()
        .chain(instance.tags.iter().flat_map(|(k, v)| [k, v]))
        .any(|field| field.to_lowercase().contains(&needle))
}

/// Compares by one column; instances without a value sort after those with one.
fn compare(a: &Instance, b: &Instance, key: SortKey) -> Ordering {
    fn optional(a: Option<&String>, b: Option<&String>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
    match key {
        SortKey::Name => optional(a.name.as_ref(), b.name.as_ref()),
        SortKey::Id => a.id.cmp(&b.id),
        SortKey::State => a.state.as_str().cmp(b.state.as_str()),
        SortKey::InstanceType => a.instance_type.cmp(&b.instance_type),
        SortKey::AvailabilityZone => {
            optional(a.availability_zone.as_ref(), b.availability_zone.as_ref())
        }
        SortKey::LaunchTime => optional(a.launch_time.as_ref(), b.launch_time.as_ref()),
        SortKey::PublicIp => ip_order(a.public_ip.as_deref(), b.public_ip.as_deref()),
        SortKey::PrivateIp => ip_order(a.private_ip.as_deref(), b.private_ip.as_deref()),
    }
}

/// IPv4 addresses in numeric order (10.0.0.9 before 10.0.0.10); missing ones last.
fn ip_order(a: Option<&str>, b: Option<&str>) -> Ordering {
    let parse = |ip: &str| ip.parse::<std::net::Ipv4Addr>().ok();
    match (a.and_then(parse), b.and_then(parse)) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(&b),
    }
}

/// One message of the live feed `GET /api/instances/events`: instances that appeared or changed
/// since the previous message, and the ids of those that are gone. The first message of a feed
/// holds every instance of the region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InstanceChanges {
    /// The region watched.
    pub region: String,
    /// Instances that appeared or changed, whole.
    pub changed: Vec<Instance>,
    /// Ids of instances EC2 no longer lists.
    pub removed: Vec<String>,
    /// When EC2 was read (RFC 3339).
    pub fetched_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(id: &str, name: Option<&str>, state: InstanceState, ip: Option<&str>) -> Instance {
        Instance {
            id: id.to_owned(),
            name: name.map(str::to_owned),
            state,
            instance_type: "t3.micro".to_owned(),
            image_id: None,
            availability_zone: None,
            launch_time: None,
            public_ip: None,
            private_ip: ip.map(str::to_owned),
            public_dns: None,
            private_dns: None,
            key_name: None,
            security_groups: Vec::new(),
            monitoring: "disabled".to_owned(),
            lifecycle: "on-demand".to_owned(),
            platform: "Linux/UNIX".to_owned(),
            tags: name
                .map(|n| BTreeMap::from([("Name".to_owned(), n.to_owned())]))
                .unwrap_or_default(),
            ssh: None,
        }
    }

    fn ids(list: &[Instance]) -> Vec<&str> {
        list.iter().map(|i| i.id.as_str()).collect()
    }

    #[test]
    fn filters_by_state_tag_and_text() {
        let all = [
            instance(
                "i-00000001",
                Some("web-1"),
                InstanceState::Running,
                Some("10.0.0.9"),
            ),
            instance(
                "i-00000002",
                Some("db-1"),
                InstanceState::Stopped,
                Some("10.0.0.10"),
            ),
            instance("i-00000003", None, InstanceState::Running, None),
        ];
        let running = InstanceQuery {
            state: Some(InstanceState::Running),
            ..Default::default()
        };
        assert_eq!(ids(&running.apply(&all)), ["i-00000001", "i-00000003"]);
        let tagged = InstanceQuery {
            tag: Some("Name=db-1".to_owned()),
            ..Default::default()
        };
        assert_eq!(ids(&tagged.apply(&all)), ["i-00000002"]);
        let text = InstanceQuery {
            q: Some("10.0.0.1".to_owned()),
            ..Default::default()
        };
        assert_eq!(ids(&text.apply(&all)), ["i-00000002"]);
        let web = InstanceQuery {
            q: Some("WEB".to_owned()),
            ..Default::default()
        };
        assert_eq!(ids(&web.apply(&all)), ["i-00000001"]);
    }

    #[test]
    fn sorts_ips_numerically_and_missing_values_last() {
        let all = [
            instance("i-00000003", None, InstanceState::Running, None),
            instance(
                "i-00000002",
                Some("b"),
                InstanceState::Stopped,
                Some("10.0.0.10"),
            ),
            instance(
                "i-00000001",
                Some("a"),
                InstanceState::Running,
                Some("10.0.0.9"),
            ),
        ];
        let by_ip = InstanceQuery {
            sort: Some(SortKey::PrivateIp),
            ..Default::default()
        };
        assert_eq!(
            ids(&by_ip.apply(&all)),
            ["i-00000001", "i-00000002", "i-00000003"]
        );
        let by_name_desc = InstanceQuery {
            sort: Some(SortKey::Name),
            order: Some(SortOrder::Desc),
            ..Default::default()
        };
        assert_eq!(
            ids(&by_name_desc.apply(&all)),
            ["i-00000003", "i-00000002", "i-00000001"]
        );
    }

    #[test]
    fn states_round_trip_through_their_ec2_names() {
        for state in InstanceState::ALL {
            assert_eq!(InstanceState::parse(state.as_str()), state);
        }
        assert_eq!(InstanceState::parse("hibernating"), InstanceState::Unknown);
        let json = serde_json::to_string(&InstanceState::ShuttingDown).expect("json");
        assert_eq!(json, "\"shutting-down\"");
    }
}

/// `GET /api/instances/{id}/console`: the end of an instance's system log, as EC2's console
/// output keeps it; where a failed boot is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsoleOutput {
    /// The instance.
    pub instance_id: String,
    /// Its last 64 KiB, or empty while EC2 has none yet.
    pub output: String,
    /// Whether older output was left out.
    pub truncated: bool,
}
