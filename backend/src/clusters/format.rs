//! The cluster definition file, as written: serde types that keep where each value stands, so
//! a mistake can be reported at its file, line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// One cluster definition file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub cluster: Cluster,
    #[serde(default)]
    pub machines: BTreeMap<String, Spanned<Machine>>,
    #[serde(default)]
    pub kinds: BTreeMap<String, Spanned<Kind>>,
    #[serde(default)]
    pub firewall: BTreeMap<String, Spanned<FirewallGroup>>,
    #[serde(default)]
    pub scenarios: BTreeMap<String, Spanned<Scenario>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    pub name: Spanned<String>,
    pub region: Option<String>,
    pub zone: Option<String>,
    pub key_name: Option<String>,
    /// Private key for static hosts, when it is not the SSH agent's or ~/.ssh's.
    pub key_file: Option<String>,
    /// AWS credentials profile.
    pub profile: Option<String>,
    pub domain: Option<String>,
    /// `public_ip` (default), `private_ip` or `public_dns`.
    pub connect: Option<Spanned<String>>,
    /// `user@host` to jump through.
    pub bastion: Option<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A group of identical machines: launched from an AMI, or existing hosts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub ami: Option<String>,
    pub instance_type: Option<String>,
    #[serde(default)]
    pub security_groups: Vec<Spanned<String>>,
    pub count: Option<u32>,
    /// Static inventory: `user@host:port`, `user@host` or `host`.
    pub hosts: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub roles: BTreeMap<String, Spanned<Role>>,
}

/// A role a machine carries: a kind and the settings its tasks are rendered with.
#[derive(Debug, Deserialize)]
pub struct Role {
    pub kind: Spanned<String>,
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// A named set of tasks; built in, or defined in the file, possibly extending another kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kind {
    pub extends: Option<Spanned<String>>,
    #[serde(default)]
    pub settings: toml::Table,
    /// Task name to its commands (strings or `{ run = ... }` / `{ upload = ... }` tables).
    #[serde(default)]
    pub tasks: BTreeMap<String, Vec<toml::Value>>,
}

/// A security group and its inbound rules.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallGroup {
    #[serde(default)]
    pub rules: Vec<Spanned<Rule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp` or `all`.
    pub proto: String,
    /// `22` or `8000-8080`.
    pub ports: String,
    /// A CIDR block or the name of a firewall group.
    pub from: String,
}

/// Ordered steps `role.task` or `ALL.task`, and steps that run at the end even after a failure.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub steps: Vec<Spanned<String>>,
    #[serde(default)]
    pub finally: Vec<Spanned<String>>,
}
