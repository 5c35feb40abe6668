//! The cluster definition file, as written: serde types that keep where each value stands, so
//! a mistake can be reported at its file, line and column.

use std::collections::BTreeMap;
use std::time::Duration;

use knit_shared::rollout::BatchSize;
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
    /// Login user on launched machines [default: the SSH client's, from ~/.ssh/config].
    pub user: Option<String>,
    /// After `launch`, wait until new machines answer over SSH and record their host keys
    /// [default: true].
    pub wait_for_ssh: Option<bool>,
    /// Hosts a step runs on at the same time [default: 20].
    pub parallel: Option<Spanned<usize>>,
    /// Where a launched machine's host key may come from: `console_output` (only cloud-init's
    /// keys in EC2's console output, else the launch fails) or `first_seen` (the default: those,
    /// else after two minutes the key the machine shows at the first connection).
    pub host_keys: Option<Spanned<String>>,
    /// The SSH key exchange: `fast` (the default: ML-KEM or curve25519 first, then the client's
    /// defaults), `post-quantum` (only those), or OpenSSH's names, comma-separated.
    pub ssh_kex: Option<Spanned<String>>,
    /// How long a host's SSH connection is kept after a run for the next one: `5m` (the
    /// default), `0s` to close it at the run's end.
    pub ssh_idle: Option<Spanned<String>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Accounts that may run scenarios on the cluster and launch it; when empty, every deployer
    /// may (and every admin may launch).
    #[serde(default)]
    pub operators: Vec<String>,
    /// Whether a run must be confirmed by typing the cluster's name [default: when tagged
    /// `Stage=Production`].
    pub confirm: Option<bool>,
    /// Accounts that may approve the runs of the scenarios in `approval`.
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Scenarios (`launch` too) whose runs wait for an approver's yes before they start.
    #[serde(default)]
    pub approval: Vec<Spanned<String>>,
    /// How long a run waits for approval before it expires: `30m`, `1h` [default: 1h].
    pub approval_timeout: Option<Spanned<String>>,
    /// Where to tell of runs: `[[cluster.notify]]`.
    #[serde(default)]
    pub notify: Vec<Spanned<Notify>>,
}

/// A receiver of notifications of the cluster's runs.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// Its URL: a secret, never shown.
    pub url: Option<Spanned<String>>,
    /// Or the environment variable that holds the URL, in the process that runs the scenario.
    pub url_env: Option<Spanned<String>>,
    /// When: `start`, `success`, `failure`, `approval` [default: all four].
    #[serde(default)]
    pub on: Vec<Spanned<String>>,
    /// `json` (knit's run summary, the default) or `slack`.
    pub format: Option<Spanned<String>>,
}

impl Cluster {
    /// Which address of a launched machine knit connects to: `public_ip` unless `connect`
    /// says otherwise.
    pub fn connect_by(&self) -> &str {
        self.connect
            .as_ref()
            .map_or("public_ip", |connect| connect.get_ref().as_str())
    }

    /// How long a run of `scenario` waits for an approver, when its runs need approval.
    pub fn approval_for(&self, scenario: &str) -> Option<Duration> {
        self.approval
            .iter()
            .any(|name| name.get_ref() == scenario)
            .then(|| {
                self.approval_timeout
                    .as_ref()
                    .and_then(|timeout| duration("approval_timeout", timeout.get_ref()).ok())
                    .unwrap_or(Duration::from_secs(3600))
            })
    }

    /// How long a host's connection is kept after a run (`ssh_idle`), when the definition
    /// says; the connections' own default otherwise.
    pub fn ssh_idle(&self) -> Option<Duration> {
        self.ssh_idle
            .as_ref()
            .and_then(|idle| ssh_idle(idle.get_ref()).ok())
    }

    /// Whether starting a run needs the cluster's name typed: `confirm`, else a production tag.
    pub fn needs_confirmation(&self) -> bool {
        self.confirm.unwrap_or_else(|| {
            self.tags
                .iter()
                .any(|(key, value)| key == "Stage" && value.eq_ignore_ascii_case("production"))
        })
    }

    /// Whether a launched machine's host key may be taken from its first connection when
    /// its console output holds none.
    pub fn trusts_first_seen_keys(&self) -> bool {
        self.host_keys
            .as_ref()
            .is_none_or(|keys| keys.get_ref() == "first_seen")
    }
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
    /// Settings of one host (`web-1`, named as in runs) over those of every role it carries:
    /// a port or a folder that differs between hosts of a machine.
    #[serde(default)]
    pub host_settings: BTreeMap<String, Spanned<toml::Table>>,
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
    /// Settings every role of this kind (or of a kind extending it) must give, e.g. the app's
    /// `repository`.
    #[serde(default)]
    pub required: Vec<String>,
    #[serde(default)]
    pub settings: toml::Table,
    /// Task name to its actions, run in order.
    #[serde(default)]
    pub tasks: BTreeMap<String, Vec<Spanned<Action>>>,
}

/// One thing a task does on a host. Text is a template rendered with the role's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Action {
    /// A shell command that must exit 0.
    Command(String),
    /// `{ run = "...", continue_on_error = true, timeout = "5m" }`.
    Run(RunAction),
    /// `{ upload = "templates/site.conf", to = "/etc/nginx/sites-available/{{ site }}" }`, or
    /// `{ write = "port {{ port }}\n", to = "/etc/redis/redis.conf", sudo = "{{ sudo }}" }`.
    File(FileAction),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunAction {
    pub run: String,
    #[serde(default)]
    pub continue_on_error: bool,
    /// `30s`, `5m` or `1h`.
    pub timeout: Option<String>,
}

impl RunAction {
    /// The time the command may take, if limited; `Err` says how to write it.
    pub fn timeout(&self) -> Result<Option<Duration>, String> {
        self.timeout
            .as_deref()
            .map(|text| duration("timeout", text))
            .transpose()
    }
}

/// `30s`, `5m` or `1h` as a duration; `Err` says how to write `name`.
/// `ssh_idle`: a duration, or zero (`0s`) for not kept at all.
pub fn ssh_idle(text: &str) -> Result<Duration, String> {
    if text.trim_end_matches(['s', 'm', 'h']) == "0" {
        return Ok(Duration::ZERO);
    }
    duration("ssh_idle", text)
}

pub fn duration(name: &str, text: &str) -> Result<Duration, String> {
    // The unit is one ASCII letter, so what precedes it ends on a character boundary.
    let units = [("s", 1), ("m", 60), ("h", 3600)];
    units
        .iter()
        .find_map(|(letter, seconds)| Some((text.strip_suffix(letter)?, *seconds)))
        .and_then(|(count, seconds)| Some((count.parse::<u64>().ok()?, seconds)))
        .filter(|(count, _)| *count > 0)
        .and_then(|(count, seconds)| count.checked_mul(seconds))
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{name} {text:?} must be a number with s, m or h, e.g. \"5m\""))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAction {
    /// A template file, relative to the definition file's folder.
    pub upload: Option<String>,
    /// The file's text, a template; instead of `upload`.
    pub write: Option<String>,
    /// Where it goes on the host. This and the fields below are templates.
    pub to: String,
    /// The command that gives the power to write there, e.g. `sudo`; none by default.
    #[serde(default)]
    pub sudo: String,
    /// Octal permissions [default: 644].
    #[serde(default = "default_mode")]
    pub mode: String,
    /// The file's owner [default: whoever writes it].
    #[serde(default)]
    pub owner: String,
    /// Its content is never shown, not even in the difference asked before a run.
    #[serde(default)]
    pub secret: bool,
}

fn default_mode() -> String {
    "644".to_owned()
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
    pub steps: Vec<Spanned<Step>>,
    #[serde(default)]
    pub finally: Vec<Spanned<Step>>,
    /// Values given when a run starts, by name.
    #[serde(default)]
    pub params: BTreeMap<String, Spanned<Param>>,
    /// Rolling batches: `[1, "25%"]` is a canary of one host, then a quarter of the hosts at a
    /// time; each batch runs every step and its `finally` steps before the next starts.
    #[serde(default)]
    pub serial: Vec<BatchSize>,
    /// How long to wait between batches: `10s`, `5m`.
    pub batch_pause: Option<Spanned<String>>,
    /// The share of the hosts reached so far (0–100) that may fail: a failed host drops out and
    /// the others go on until more fail. Unset, a failed step stops the run.
    pub max_fail_percentage: Option<Spanned<u8>>,
    /// `serial` and `max_fail_percentage` hold for every run: only an admin may override them
    /// when starting one (a canary no deployer can skip).
    #[serde(default)]
    pub lock_rollout: bool,
    /// When the server starts it by itself, as cron writes it: `0 3 * * *` (a sixth field,
    /// first, for seconds). Its parameters take their defaults.
    pub schedule: Option<Spanned<String>>,
    /// The zone `schedule` is read in, as the IANA database names it [default: UTC].
    pub timezone: Option<Spanned<String>>,
    /// Run an occurrence missed while no server ran, once, when one starts.
    #[serde(default)]
    pub catch_up: bool,
}

/// `[scenarios.deploy.params.ref]`: a value given when the scenario starts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub description: Option<String>,
    /// Without one, the parameter must be given.
    pub default: Option<String>,
    /// A regular expression the whole value must match.
    pub pattern: Option<String>,
    /// The only values allowed.
    pub choices: Option<Vec<String>>,
    /// Masked in answers and logs.
    #[serde(default)]
    pub secret: bool,
}

/// `"role.task"`, or `{ step = "role.task", continue_on_failure = true }` to go on with the
/// scenario when the step fails, `once = true` to run it on one host of the role only.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Step {
    Name(String),
    Table {
        step: String,
        #[serde(default)]
        continue_on_failure: bool,
        #[serde(default)]
        once: bool,
    },
}

impl Step {
    pub fn name(&self) -> &str {
        match self {
            Self::Name(name) | Self::Table { step: name, .. } => name,
        }
    }

    pub fn continues_on_failure(&self) -> bool {
        matches!(
            self,
            Self::Table {
                continue_on_failure: true,
                ..
            }
        )
    }

    /// Whether the step runs on only one host of each of its roles.
    pub fn once(&self) -> bool {
        matches!(self, Self::Table { once: true, .. })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::duration;

    #[test]
    fn durations_are_a_whole_number_and_a_unit() {
        assert_eq!(duration("t", "30s"), Ok(Duration::from_secs(30)));
        assert_eq!(duration("t", "5m"), Ok(Duration::from_secs(300)));
        assert_eq!(duration("t", "2h"), Ok(Duration::from_secs(7200)));
        for bad in [
            "",
            "m",
            "0s",
            "5",
            "5d",
            "é",
            "5é",
            "-1s",
            "1.5m",
            "9999999999999999h",
        ] {
            assert!(duration("t", bad).is_err(), "{bad:?}");
        }
    }
}
