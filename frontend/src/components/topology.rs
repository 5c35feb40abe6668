//! A cluster drawn: where traffic may come from on the left, the machines on the right with
//! their roles and instances, and an arrow for each firewall rule that lets traffic in.

use std::collections::BTreeMap;

use knit_shared::{ClusterSummary, MachineSummary};
use leptos::prelude::*;

const WIDTH: i32 = 760;
const SOURCE_X: i32 = 16;
const SOURCE_WIDTH: i32 = 190;
const SOURCE_HEIGHT: i32 = 36;
const MACHINE_X: i32 = 400;
const MACHINE_WIDTH: i32 = 300;
const GAP: i32 = 18;
/// Instances listed in a machine's box at most.
const SHOWN_INSTANCES: usize = 3;

/// Who may connect to whom, and on what: `(from, to machine) -> ["tcp 80", ...]`.
fn edges(cluster: &ClusterSummary) -> BTreeMap<(Endpoint, String), Vec<String>> {
    let mut edges: BTreeMap<(Endpoint, String), Vec<String>> = BTreeMap::new();
    for machine in &cluster.machines {
        let rules = cluster
            .firewall
            .iter()
            .filter(|group| machine.security_groups.contains(&group.name))
            .flat_map(|group| &group.rules);
        for rule in rules {
            let label = if rule.proto == "all" {
                "all".to_owned()
            } else {
                format!("{} {}", rule.proto, rule.ports)
            };
            let senders: Vec<Endpoint> = if cluster.firewall.iter().any(|g| g.name == rule.from) {
                cluster
                    .machines
                    .iter()
                    .filter(|other| other.security_groups.contains(&rule.from))
                    .map(|other| Endpoint::Machine(other.name.clone()))
                    .collect()
            } else {
                vec![Endpoint::Network(rule.from.clone())]
            };
            for sender in senders {
                let labels = edges.entry((sender, machine.name.clone())).or_default();
                if !labels.contains(&label) {
                    labels.push(label.clone());
                }
            }
        }
    }
    edges
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    Network(String),
    Machine(String),
}

fn machine_height(machine: &MachineSummary) -> i32 {
    let lines = if machine.hosts.is_empty() {
        machine.instances.len().clamp(1, SHOWN_INSTANCES)
    } else {
        machine.hosts.len().min(SHOWN_INSTANCES)
    };
    48 + 16 * i32::try_from(lines).unwrap_or(3)
}

#[component]
pub fn Topology(cluster: ClusterSummary) -> impl IntoView {
    let edges = edges(&cluster);
    let networks: Vec<String> = {
        let mut seen: Vec<String> = edges
            .keys()
            .filter_map(|(from, _)| match from {
                Endpoint::Network(block) => Some(block.clone()),
                Endpoint::Machine(_) => None,
            })
            .collect();
        seen.dedup();
        seen
    };
    let mut tops = BTreeMap::new();
    let mut y = GAP;
    for machine in &cluster.machines {
        tops.insert(machine.name.clone(), (y, machine_height(machine)));
        y += machine_height(machine) + GAP;
    }
    let source_y = |index: usize| GAP + i32::try_from(index).unwrap_or(0) * (SOURCE_HEIGHT + GAP);
    let height = y.max(source_y(networks.len())) + GAP;
    let centre = |name: &str| tops.get(name).map_or(0, |(top, h)| top + h / 2);

    let arrows = edges
        .iter()
        .map(|((from, to), labels)| {
            let label = labels.join(", ");
            let end_y = centre(to);
            let (path, label_x, label_y, from_name) = match from {
                Endpoint::Network(block) => {
                    let index = networks.iter().position(|n| n == block).unwrap_or(0);
                    let start_y = source_y(index) + SOURCE_HEIGHT / 2;
                    let start_x = SOURCE_X + SOURCE_WIDTH;
                    (
                        format!("M{start_x},{start_y} L{},{end_y}", MACHINE_X - 4),
                        (start_x + MACHINE_X) / 2,
                        (start_y + end_y) / 2 - 6,
                        block.clone(),
                    )
                }
                Endpoint::Machine(name) => {
                    let start_y = centre(name);
                    let right = MACHINE_X + MACHINE_WIDTH;
                    let bend = right + 40;
                    (
                        format!(
                            "M{right},{start_y} C{bend},{start_y} {bend},{end_y} {},{end_y}",
                            right + 4
                        ),
                        bend - 6,
                        (start_y + end_y) / 2,
                        name.clone(),
                    )
                }
            };
            view! {
                <g class="edge" data-from=from_name data-to=to.clone()>
                    <path d=path marker-end="url(#arrow)" />
                    <text x=label_x y=label_y text-anchor="middle">{label}</text>
                </g>
            }
        })
        .collect_view();

    let sources = networks
        .iter()
        .enumerate()
        .map(|(index, block)| {
            let top = source_y(index);
            let name = if block == "0.0.0.0/0" || block == "::/0" {
                format!("internet ({block})")
            } else {
                block.clone()
            };
            view! {
                <g class="network" data-network=block.clone()>
                    <rect x=SOURCE_X y=top width=SOURCE_WIDTH height=SOURCE_HEIGHT rx="6" />
                    <text x=SOURCE_X + 10 y=top + 22>{name}</text>
                </g>
            }
        })
        .collect_view();

    let machines = cluster.machines.iter().map(|machine| {
        let (top, box_height) = tops.get(&machine.name).copied().unwrap_or((0, 0));
        let roles: Vec<&str> = machine.roles.iter().map(|(role, _)| role.as_str()).collect();
        let lines: Vec<String> = if !machine.hosts.is_empty() {
            machine.hosts.iter().take(SHOWN_INSTANCES).cloned().collect()
        } else if machine.instances.is_empty() {
            vec!["not launched".to_owned()]
        } else {
            machine
                .instances
                .iter()
                .take(SHOWN_INSTANCES)
                .map(|i| format!("{} · {} · {}", i.id, i.state, i.address.clone().unwrap_or_default()))
                .collect()
        };
        view! {
            <g class="machine" data-machine=machine.name.clone()>
                <rect x=MACHINE_X y=top width=MACHINE_WIDTH height=box_height rx="8" />
                <text class="machine-name" x=MACHINE_X + 12 y=top + 20>{machine.name.clone()}</text>
                <text class="machine-roles" x=MACHINE_X + 12 y=top + 38>{roles.join(" · ")}</text>
                {lines.into_iter().enumerate().map(|(index, line)| {
                    let line_y = top + 56 + 16 * i32::try_from(index).unwrap_or(0);
                    view! { <text class="machine-instance" x=MACHINE_X + 12 y=line_y>{line}</text> }
                }).collect_view()}
            </g>
        }
    }).collect_view();

    view! {
        <svg class="topology" viewBox=format!("0 0 {WIDTH} {height}") width=WIDTH height=height
            role="img" aria-label=format!("Topology of {}", cluster.name)>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
                    <path d="M0,0 L10,5 L0,10 z" />
                </marker>
            </defs>
            {sources}
            {machines}
            {arrows}
        </svg>
    }
}
