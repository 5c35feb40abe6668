//! A cluster's `launch`, and its `changes` (what it would do): what the definition asks of EC2
//! (its firewall groups with their rules, its machines' instances), what EC2 has, the
//! difference, and making it so. Running `launch` twice creates nothing the second time: every change comes from the difference.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ec2::Client;
use knit_shared::{Change, LaunchChanges};
use sha2::{Digest, Sha256};

mod host_keys;

pub use host_keys::host_keys_in;

use crate::clusters::Definition;
use crate::ec2::cluster_state::{self, GroupState, Launch};
use crate::ec2::rules::Rule;
use crate::ec2::{self, CLUSTER_TAG, Ec2Error, Ec2Target, MACHINE_TAG, MachineOf};
use crate::reach::Reach;
use crate::ssh::KnownHosts;

/// States of an instance that still counts towards its machine's count.
const ALIVE: [&str; 4] = ["pending", "running", "stopping", "stopped"];
/// How long instances may take to run.
const RUNNING_LIMIT: Duration = Duration::from_secs(300);

/// A machine the definition launches.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MachineSpec {
    name: String,
    ami: String,
    instance_type: String,
    count: u32,
    groups: Vec<String>,
}

/// What the definition asks of EC2.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Desired {
    groups: BTreeMap<String, Vec<Rule>>,
    machines: Vec<MachineSpec>,
}

/// What EC2 has of it.
#[derive(Debug, Clone, Default)]
struct Actual {
    groups: Vec<GroupState>,
    /// Instances alive per machine.
    counts: BTreeMap<String, u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(transparent)]
    Ec2(#[from] Ec2Error),
    #[error("instances {ids} did not reach running within {} s", RUNNING_LIMIT.as_secs())]
    NotRunning { ids: String },
    #[error("instance {id} has no {connect} to connect to; set `connect` in [cluster]")]
    NoAddress { id: String, connect: String },
    #[error(
        "instance {id} runs, but nothing answers on {address}:22: check its security groups allow SSH from knit"
    )]
    NoSsh { id: String, address: String },
    #[error(
        "instance {id}'s console output showed no SSH host keys within {seconds} s, and host_keys = \"console_output\" trusts no other: check that cloud-init prints them, or allow first_seen"
    )]
    NoHostKey { id: String, seconds: u64 },
    #[error(transparent)]
    Ssh(#[from] crate::ssh::SshError),
}

fn desired(definition: &Definition) -> Desired {
    let file = &definition.file;
    let names: Vec<&str> = file.firewall.keys().map(String::as_str).collect();
    let groups = file
        .firewall
        .iter()
        .map(|(name, group)| {
            let mut rules: Vec<Rule> = group
                .get_ref()
                .rules
                .iter()
                .map(|rule| {
                    let rule = rule.get_ref();
                    Rule::from_definition(&rule.proto, &rule.ports, &rule.from, &names)
                })
                .collect();
            rules.sort();
            rules.dedup();
            (name.clone(), rules)
        })
        .collect();
    let machines = file
        .machines
        .iter()
        .filter_map(|(name, machine)| {
            let machine = machine.get_ref();
            Some(MachineSpec {
                name: name.clone(),
                ami: machine.ami.clone()?,
                instance_type: machine.instance_type.clone()?,
                count: machine.count.unwrap_or(1),
                groups: machine
                    .security_groups
                    .iter()
                    .map(|g| g.get_ref().clone())
                    .collect(),
            })
        })
        .collect();
    Desired { groups, machines }
}

/// The changes that make `actual` what `desired` asks, groups first, then rules, then machines.
fn diff(desired: &Desired, actual: &Actual) -> Vec<Change> {
    // Every group first: a rule may name another group as its source.
    let mut changes: Vec<Change> = desired
        .groups
        .keys()
        .filter(|name| !actual.groups.iter().any(|group| &group.name == *name))
        .map(|name| Change::CreateGroup {
            group: name.clone(),
        })
        .collect();
    for (name, rules) in &desired.groups {
        let have = actual
            .groups
            .iter()
            .find(|group| &group.name == name)
            .map(|group| group.rules.as_slice())
            .unwrap_or_default();
        changes.extend(
            rules
                .iter()
                .filter(|rule| !have.contains(rule))
                .map(|rule| Change::AddRule {
                    group: name.clone(),
                    rule: rule.to_string(),
                }),
        );
        changes.extend(
            have.iter()
                .filter(|rule| !rules.contains(rule))
                .map(|rule| Change::RemoveRule {
                    group: name.clone(),
                    rule: rule.to_string(),
                }),
        );
    }
    for machine in &desired.machines {
        let alive = actual.counts.get(&machine.name).copied().unwrap_or(0);
        if alive < machine.count {
            changes.push(Change::Launch {
                machine: machine.name.clone(),
                count: machine.count - alive,
                ami: machine.ami.clone(),
                instance_type: machine.instance_type.clone(),
            });
        }
    }
    changes
}

async fn actual(
    definition: &Definition,
    desired: &Desired,
    client: &Client,
    target: &Ec2Target,
) -> Result<Actual, Ec2Error> {
    let groups = cluster_state::cluster_groups(client, target, definition.name()).await?;
    let mut counts = BTreeMap::new();
    for machine in &desired.machines {
        let of = MachineOf {
            cluster: definition.name(),
            tags: &definition.file.cluster.tags,
            machine: &machine.name,
        };
        let alive = ec2::machine_instances(client, target, of, &ALIVE).await?;
        counts.insert(
            machine.name.clone(),
            u32::try_from(alive.len()).unwrap_or(u32::MAX),
        );
    }
    Ok(Actual { groups, counts })
}

/// What `launch` would change.
pub async fn changes(
    definition: &Definition,
    client: &Client,
    target: &Ec2Target,
) -> Result<LaunchChanges, Ec2Error> {
    let desired = desired(definition);
    let actual = actual(definition, &desired, client, target).await?;
    Ok(LaunchChanges {
        cluster: definition.name().to_owned(),
        changes: diff(&desired, &actual),
    })
}

/// Makes EC2 match the definition, saying each step through `say`; returns the instances
/// started, once they run and (unless `wait_for_ssh = false`) answer over SSH with their host
/// key recorded in `known_hosts`. `launch_id` names this launch, and no other: EC2 starts
/// the instances of one launch once however often its call is retried, and those of the
/// next launch anew.
pub async fn apply(
    definition: &Definition,
    launch_id: &str,
    client: &Client,
    target: &Ec2Target,
    known_hosts: &KnownHosts,
    reach: &Reach,
    say: impl Fn(String),
) -> Result<Vec<knit_shared::Instance>, LaunchError> {
    let desired = desired(definition);
    let actual = actual(definition, &desired, client, target).await?;
    let changes = diff(&desired, &actual);
    if changes.is_empty() {
        say("EC2 already matches the definition: nothing to create".to_owned());
        return Ok(Vec::new());
    }
    let cluster = &definition.file.cluster;
    let mut tags = cluster.tags.clone();
    tags.insert(CLUSTER_TAG.to_owned(), definition.name().to_owned());
    let mut ids: BTreeMap<String, String> = actual
        .groups
        .iter()
        .map(|group| (group.name.clone(), group.id.clone()))
        .collect();
    let mut started = Vec::new();
    for change in &changes {
        say(change.describe());
        match change {
            Change::CreateGroup { group } => {
                let id = cluster_state::create_cluster_group(
                    client,
                    target,
                    definition.name(),
                    group,
                    &cluster.tags,
                )
                .await?;
                let name = cluster_state::group_name(definition.name(), group);
                say(format!("created {group}: {id} ({name})"));
                ids.insert(group.clone(), id);
            }
            Change::AddRule { group, rule } | Change::RemoveRule { group, rule } => {
                let add = matches!(change, Change::AddRule { .. });
                let rules = if add {
                    desired.groups.get(group).cloned().unwrap_or_default()
                } else {
                    actual
                        .groups
                        .iter()
                        .find(|g| &g.name == group)
                        .map(|g| g.rules.clone())
                        .unwrap_or_default()
                };
                if let (Some(id), Some(rule)) = (
                    ids.get(group),
                    rules.iter().find(|r| r.to_string() == *rule),
                ) {
                    cluster_state::change_rule(client, target, id, rule, &ids, add).await?;
                }
            }
            Change::Launch { machine, count, .. } => {
                let Some(spec) = desired.machines.iter().find(|m| &m.name == machine) else {
                    continue;
                };
                let mut machine_tags = tags.clone();
                machine_tags.insert(MACHINE_TAG.to_owned(), machine.clone());
                machine_tags.insert(
                    "Name".to_owned(),
                    format!("{}-{machine}", definition.name()),
                );
                let launch = Launch {
                    ami: &spec.ami,
                    instance_type: &spec.instance_type,
                    count: i32::try_from(*count).unwrap_or(i32::MAX),
                    key_name: cluster.key_name.as_deref(),
                    group_ids: spec
                        .groups
                        .iter()
                        .filter_map(|g| ids.get(g).cloned())
                        .collect(),
                    zone: cluster.zone.as_deref(),
                    tags: machine_tags,
                    client_token: client_token(launch_id, definition.name(), machine),
                };
                let new = cluster_state::run_instances(client, target, &launch).await?;
                say(format!("started {}", new.join(", ")));
                started.extend(new);
            }
        }
    }
    if started.is_empty() {
        return Ok(Vec::new());
    }
    say(format!("waiting for {} instances to run", started.len()));
    let instances = cluster_state::wait_running(client, target, &started, RUNNING_LIMIT).await?;
    let waiting: Vec<&str> = instances
        .iter()
        .filter(|i| i.state != knit_shared::InstanceState::Running)
        .map(|i| i.id.as_str())
        .collect();
    if !waiting.is_empty() {
        return Err(LaunchError::NotRunning {
            ids: waiting.join(", "),
        });
    }
    let connect = cluster.connect_by();
    for instance in &instances {
        let address = ec2::connect_address(instance, connect);
        say(format!(
            "{} runs, {connect} {}",
            instance.id,
            address.as_deref().unwrap_or("none")
        ));
    }
    if cluster.wait_for_ssh == Some(false) {
        say("not waiting for SSH (wait_for_ssh = false): host keys are not recorded".to_owned());
    } else if cluster.bastion.is_some() {
        say("behind a bastion: SSH and host keys are checked at the first run".to_owned());
    } else {
        let first_seen = cluster.trusts_first_seen_keys();
        host_keys::record(
            &instances,
            connect,
            first_seen,
            (client, target),
            known_hosts,
            reach,
            &say,
        )
        .await?;
    }
    Ok(instances)
}

/// EC2's idempotency token (at most 64 characters) for starting `machine`'s instances in
/// launch `launch_id`. A token EC2 has seen answers with that launch's instances, even
/// terminated ones, so it must never repeat across launches.
fn client_token(launch_id: &str, cluster: &str, machine: &str) -> String {
    let digest = Sha256::digest(format!("{launch_id}\0{cluster}\0{machine}"));
    let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("knit-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ec2::rules::Source;

    fn rule(port: i32, from: &str) -> Rule {
        Rule {
            protocol: "tcp".to_owned(),
            from_port: port,
            to_port: port,
            source: Source::Cidr(from.to_owned()),
        }
    }

    #[test]
    fn the_difference_creates_what_is_missing_and_removes_what_is_not_asked_for() {
        let desired = Desired {
            groups: BTreeMap::from([
                (
                    "web".to_owned(),
                    vec![rule(80, "0.0.0.0/0"), rule(22, "198.51.100.0/24")],
                ),
                ("db".to_owned(), vec![rule(5432, "10.0.0.0/8")]),
            ]),
            machines: vec![MachineSpec {
                name: "frontend".to_owned(),
                ami: "ami-1".to_owned(),
                instance_type: "t3.micro".to_owned(),
                count: 3,
                groups: vec!["web".to_owned()],
            }],
        };
        let actual = Actual {
            groups: vec![GroupState {
                id: "sg-1".to_owned(),
                name: "web".to_owned(),
                rules: vec![rule(80, "0.0.0.0/0"), rule(8080, "0.0.0.0/0")],
            }],
            counts: BTreeMap::from([("frontend".to_owned(), 1)]),
        };
        let described: Vec<String> = diff(&desired, &actual)
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            described,
            [
                "create security group db",
                "add rule tcp 5432 from 10.0.0.0/8 to db",
                "add rule tcp 22 from 198.51.100.0/24 to web",
                "remove rule tcp 8080 from 0.0.0.0/0 from web",
                "launch 2 × t3.micro (ami-1) for frontend",
            ]
        );
        let matched = Actual {
            groups: vec![
                GroupState {
                    id: "sg-1".to_owned(),
                    name: "web".to_owned(),
                    rules: desired.groups["web"].clone(),
                },
                GroupState {
                    id: "sg-2".to_owned(),
                    name: "db".to_owned(),
                    rules: desired.groups["db"].clone(),
                },
            ],
            counts: BTreeMap::from([("frontend".to_owned(), 3)]),
        };
        assert!(diff(&desired, &matched).is_empty());
    }

    #[test]
    fn client_tokens_differ_per_launch_and_machine_and_fit_ec2() {
        let cluster = "a-cluster-name-long-enough-to-overflow-a-token.example.com";
        let token = client_token("17-abc", cluster, "web");
        assert!(token.len() <= 64, "{token}");
        assert_eq!(token, client_token("17-abc", cluster, "web"));
        assert_ne!(token, client_token("18-abc", cluster, "web"));
        assert_ne!(token, client_token("17-abc", cluster, "db"));
    }
}
