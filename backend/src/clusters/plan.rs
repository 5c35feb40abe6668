//! Expanding a scenario into what runs: its steps × the hosts of their roles, every command and
//! upload rendered from the role's settings. Everything that can go wrong before a host is
//! touched goes wrong here, so a bad template or a missing file stops a run before it starts.
//! Over 400 lines: the expansion (steps, hosts, the built-in rollback, batches, parameters) reads
//! top to bottom; the commands themselves are in commands.rs.

use std::collections::BTreeMap;
use std::time::Duration;

use super::commands::{Command, Host, MachineHosts};
use super::format::{Role, Step as StepSpec};
use super::render::{RenderError, Renderer};
use super::{Definition, Library};
use knit_shared::SshTarget;
use knit_shared::rollout::{BatchSize, batch_sizes};
use knit_shared::{Invalid, PlannedHost, PlannedStep, RunPlan, ScenarioParam, StartRun};

/// The scenario every cluster has without defining it: every role's `install`.
pub const INSTALL: &str = "install";
/// The scenario a cluster has without defining it when a role has a `rollback` task: see
/// [`Definition::builtin_rollback`].
pub const ROLLBACK: &str = "rollback";
/// The task a rollback runs first, once, to take the database back to the older schema.
const UNMIGRATE: &str = "unmigrate";
/// The task a rolling run has every role that has it run around each batch: see [`Drain`].
const DRAIN: &str = "drain";
/// The task that says, changing nothing, what a run would change: see
/// [`Definition::diff_jobs`].
const DIFF: &str = "diff";

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cluster: String,
    pub scenario: String,
    pub hosts: Vec<Host>,
    pub steps: Vec<Step>,
    /// Hosts a step runs on at the same time.
    pub parallel: usize,
    /// The value of each of the scenario's parameters.
    pub params: BTreeMap<String, String>,
    /// The parameters as declared (which are secret).
    pub declared: Vec<ScenarioParam>,
    /// The rolling batches, in order: indices into `hosts`. One batch of all without `serial`.
    pub batches: Vec<Vec<usize>>,
    /// How long to wait between batches.
    pub batch_pause: Option<Duration>,
    /// The share of the hosts reached that may fail before the rollout stops; none: a failed
    /// step stops the run.
    pub max_fail_percentage: Option<u8>,
    /// The run this one retries on the hosts it left undone.
    pub retry_of: Option<i64>,
    /// Wait in line while another run holds the cluster, instead of being refused.
    pub wait: bool,
    /// How long the run waits for an approver, when its scenario needs approval.
    pub approval: Option<Duration>,
    /// When the run (or the first run it retries) was planned, UTC: what its releases are
    /// named by, the same on every host.
    pub stamp: String,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// `role.task` or `ALL.task`.
    pub name: String,
    pub finally: bool,
    pub continue_on_failure: bool,
    /// Runs on one host of each of its roles: the first still in the run.
    pub once: bool,
    /// A step the rollout adds around a batch; it runs in that batch only, on all its jobs.
    pub drain: Option<Drain>,
    pub jobs: Vec<Job>,
}

/// Around each batch of a rolling run, every role with a `drain` task (a proxy) runs it: before
/// the batch's steps with the batch's hosts in `draining`, so that no request reaches them while
/// they switch and restart; after them with none, putting them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drain {
    /// The batch (its index)'s hosts out.
    Out(usize),
    /// Every host back in, after the batch.
    Back(usize),
}

impl Drain {
    pub fn batch(self) -> usize {
        match self {
            Self::Out(batch) | Self::Back(batch) => batch,
        }
    }
}

/// What one step does on one host.
#[derive(Debug, Clone)]
pub struct Job {
    /// Index into the plan's hosts.
    pub host: usize,
    pub commands: Vec<Command>,
}

impl Step {
    /// The step's jobs on `hosts` (indices into the plan's hosts), e.g. a rolling batch's.
    pub fn jobs_on(&self, hosts: &[usize]) -> Vec<Job> {
        self.jobs
            .iter()
            .filter(|job| hosts.contains(&job.host))
            .cloned()
            .collect()
    }
}

impl Job {
    /// Whether some of the job's commands are `role`'s.
    pub fn has_role(&self, role: &str) -> bool {
        self.commands.iter().any(|command| command.role() == role)
    }
}

impl Command {
    /// The role whose task the command comes from.
    pub fn role(&self) -> &str {
        match self {
            Self::Run { role, .. } | Self::Upload { role, .. } => role,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cluster {cluster} has no scenario {scenario}; it has: {known}")]
    UnknownScenario {
        cluster: String,
        scenario: String,
        known: String,
    },
    #[error("cluster {cluster} has no host {host}; its hosts: {known}")]
    UnknownHost {
        cluster: String,
        host: String,
        known: String,
    },
    #[error("cluster {cluster} has no role {role}")]
    UnknownRole { cluster: String, role: String },
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("nothing to run: no host carries the roles of {scenario}")]
    Empty { scenario: String },
    /// A parameter unknown, missing, or against its rule.
    #[error("{0}")]
    Params(Invalid),
    /// A rollout override out of its range.
    #[error("{0}")]
    Rollout(String),
}

impl Definition {
    /// Whether `scenario` says that its rollout holds for every run (`lock_rollout`).
    pub fn locks_rollout(&self, scenario: &str) -> bool {
        self.file
            .scenarios
            .get(scenario)
            .is_some_and(|found| found.get_ref().lock_rollout)
    }

    /// Hosts of the machines given as static inventory, named `<machine>-<n>`.
    pub fn static_hosts(&self) -> MachineHosts {
        self.file
            .machines
            .iter()
            .filter_map(|(name, machine)| {
                let hosts = machine.get_ref().hosts.as_ref()?;
                let targets = hosts
                    .iter()
                    .map(|h| SshTarget::parse(h.get_ref()).into())
                    .collect();
                Some((name.clone(), targets))
            })
            .collect()
    }

    /// Expands the scenario `request` names (or `install`) over `machine_hosts`, the hosts
    /// found for each machine, as `request` asks; `stamp` is the run's (see [`run_stamp`]).
    pub fn plan(
        &self,
        library: &Library,
        machine_hosts: &MachineHosts,
        request: &StartRun,
        stamp: &str,
    ) -> Result<Plan, PlanError> {
        let cluster = self.name().to_owned();
        let scenario = request.scenario.as_str();
        let (steps, finally) = self.scenario_steps(library, scenario)?;
        let scope = self.scope(library, machine_hosts, request, stamp)?;
        let mut planned = Vec::new();
        for (spec, is_finally) in steps
            .iter()
            .map(|s| (s, false))
            .chain(finally.iter().map(|s| (s, true)))
        {
            let jobs = self.jobs(spec.name(), &scope, None)?;
            if !jobs.is_empty() {
                planned.push(Step {
                    name: spec.name().to_owned(),
                    finally: is_finally,
                    continue_on_failure: spec.continues_on_failure(),
                    once: spec.once(),
                    drain: None,
                    jobs,
                });
            }
        }
        if planned.is_empty() {
            return Err(PlanError::Empty {
                scenario: scenario.to_owned(),
            });
        }
        let rollout = self
            .file
            .scenarios
            .get(scenario)
            .map(|found| found.get_ref());
        if let Some(share) = request.max_fail_percentage {
            knit_shared::rollout::check_max_fail(share).map_err(PlanError::Rollout)?;
        }
        let serial = match (&request.serial, rollout) {
            (Some(serial), _) => serial.clone(),
            (None, Some(found)) => found.serial.clone(),
            (None, None) => Vec::new(),
        };
        let batches = batches(&serial, &scope.hosts, &planned);
        let planned = self.with_drains(planned, &batches, &scope)?;
        Ok(Plan {
            batches,
            batch_pause: rollout
                .and_then(|found| found.batch_pause.as_ref())
                .and_then(|pause| super::format::duration("batch_pause", pause.get_ref()).ok()),
            max_fail_percentage: request.max_fail_percentage.or_else(|| {
                rollout.and_then(|found| found.max_fail_percentage.as_ref().map(|p| *p.get_ref()))
            }),
            retry_of: request.retry_of,
            wait: request.wait,
            approval: self.file.cluster.approval_for(scenario),
            cluster,
            scenario: scenario.to_owned(),
            hosts: scope.hosts,
            steps: planned,
            parallel: request.parallel.map_or_else(
                || {
                    self.file
                        .cluster
                        .parallel
                        .as_ref()
                        .map_or(20, |p| *p.get_ref())
                },
                usize::from,
            ),
            declared: self.scenario_params(scenario),
            params: scope.params,
            stamp: stamp.to_owned(),
        })
    }

    /// What each host's roles would say a run of `request` changes, asked before it starts (their
    /// `diff` task): read-only commands, never part of the run; their hosts are those of the
    /// run's [`Plan`] for the same arguments.
    pub fn diff_jobs(
        &self,
        library: &Library,
        machine_hosts: &MachineHosts,
        request: &StartRun,
        stamp: &str,
    ) -> Result<Vec<Job>, PlanError> {
        let scope = self.scope(library, machine_hosts, request, stamp)?;
        self.jobs(&format!("ALL.{DIFF}"), &scope, None)
    }

    /// What every step of a run of `request` is expanded with.
    fn scope<'a>(
        &self,
        library: &'a Library,
        machine_hosts: &MachineHosts,
        request: &'a StartRun,
        stamp: &'a str,
    ) -> Result<Scope<'a>, PlanError> {
        let params = self
            .param_values(&request.scenario, &request.params)
            .map_err(PlanError::Params)?;
        if let Some(role) = request.roles.iter().find(|role| !self.has_role(role)) {
            return Err(PlanError::UnknownRole {
                cluster: self.name().to_owned(),
                role: role.clone(),
            });
        }
        Ok(Scope {
            library,
            hosts: self.hosts(machine_hosts, request)?,
            request,
            params,
            stamp,
            // A role's peers are all of the cluster's hosts, also those this run leaves out.
            roles: self.roles_on(library, &self.named_hosts(machine_hosts)),
        })
    }

    /// `steps` with the [`Drain`] steps of a rolling run: each batch's `Out` before the steps,
    /// its `Back` after them (before the `finally` steps). None with a single batch.
    fn with_drains(
        &self,
        steps: Vec<Step>,
        batches: &[Vec<usize>],
        scope: &Scope,
    ) -> Result<Vec<Step>, PlanError> {
        let step = format!("ALL.{DRAIN}");
        let back = self.jobs(&step, scope, Some(&[]))?;
        if batches.len() < 2 || back.is_empty() {
            return Ok(steps);
        }
        let drain = |name: String, drain: Drain, jobs: Vec<Job>| Step {
            name,
            finally: false,
            continue_on_failure: false,
            once: false,
            drain: Some(drain),
            jobs,
        };
        let mut outs = Vec::new();
        let mut backs = Vec::new();
        for (index, batch) in batches.iter().enumerate() {
            let draining: Vec<String> = batch
                .iter()
                .map(|host| scope.hosts[*host].name.clone())
                .collect();
            let out = self.jobs(&step, scope, Some(&draining))?;
            let number = index + 1;
            outs.push(drain(
                format!("{step} (batch {number} out)"),
                Drain::Out(index),
                out,
            ));
            let name = format!("{step} (batch {number} back)");
            backs.push(drain(name, Drain::Back(index), back.clone()));
        }
        let (finally, steps): (Vec<Step>, Vec<Step>) =
            steps.into_iter().partition(|step| step.finally);
        Ok(outs
            .into_iter()
            .chain(steps)
            .chain(backs)
            .chain(finally)
            .collect())
    }

    /// Every host of `machine_hosts`, named `<machine>-<n>` in the order of the definition.
    pub fn named_hosts(&self, machine_hosts: &MachineHosts) -> Vec<Host> {
        self.file
            .machines
            .keys()
            .flat_map(|machine| {
                let targets = machine_hosts
                    .get(machine)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                targets.iter().enumerate().map(move |(index, found)| Host {
                    name: format!("{machine}-{}", index + 1),
                    machine: machine.clone(),
                    target: found.target.clone(),
                    private_ip: found.private_ip.clone(),
                })
            })
            .collect()
    }

    fn hosts(
        &self,
        machine_hosts: &MachineHosts,
        request: &StartRun,
    ) -> Result<Vec<Host>, PlanError> {
        let all = self.named_hosts(machine_hosts);
        if let Some(unknown) = request
            .hosts
            .iter()
            .find(|name| !all.iter().any(|host| &host.name == *name))
        {
            return Err(PlanError::UnknownHost {
                cluster: self.name().to_owned(),
                host: unknown.clone(),
                known: all
                    .iter()
                    .map(|h| h.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        Ok(all
            .into_iter()
            .filter(|host| request.hosts.is_empty() || request.hosts.contains(&host.name))
            .collect())
    }

    fn has_role(&self, role: &str) -> bool {
        self.file
            .machines
            .values()
            .any(|machine| machine.get_ref().roles.contains_key(role))
    }

    fn scenario_steps(
        &self,
        library: &Library,
        scenario: &str,
    ) -> Result<(Vec<StepSpec>, Vec<StepSpec>), PlanError> {
        if let Some(found) = self.file.scenarios.get(scenario) {
            let specs = |list: &[toml::Spanned<StepSpec>]| {
                list.iter().map(|step| step.get_ref().clone()).collect()
            };
            return Ok((
                specs(&found.get_ref().steps),
                specs(&found.get_ref().finally),
            ));
        }
        if scenario == INSTALL {
            return Ok((vec![StepSpec::Name(format!("ALL.{INSTALL}"))], Vec::new()));
        }
        let rollback = self.builtin_rollback(library);
        if scenario == ROLLBACK && !rollback.is_empty() {
            return Ok((rollback, Vec::new()));
        }
        let mut known: Vec<&str> = self.file.scenarios.keys().map(String::as_str).collect();
        known.push(INSTALL);
        if !rollback.is_empty() {
            known.push(ROLLBACK);
        }
        Err(PlanError::UnknownScenario {
            cluster: self.name().to_owned(),
            scenario: scenario.to_owned(),
            known: known.join(", "),
        })
    }

    /// The steps of the built-in `rollback` (none when the file defines its own, or no role has
    /// a `rollback` task): once for each role that says how (`unmigrate_command`), its schema
    /// back; each such role's `rollback`; then the `restart` of those that have one.
    pub fn builtin_rollback(&self, library: &Library) -> Vec<StepSpec> {
        if self.file.scenarios.contains_key(ROLLBACK) {
            return Vec::new();
        }
        let mut roles: Vec<(&str, Vec<String>, bool)> = Vec::new();
        for (role, spec) in self.file.machines.values().flat_map(|m| &m.get_ref().roles) {
            let spec = spec.get_ref();
            let Some(kind) = library.resolve(&self.file.kinds, spec.kind.get_ref()) else {
                continue;
            };
            if !kind.tasks.contains_key(ROLLBACK) || roles.iter().any(|(known, ..)| known == role) {
                continue;
            }
            let mut settings = kind.settings.clone();
            settings.extend(spec.settings.clone());
            let unmigrates = kind.tasks.contains_key(UNMIGRATE)
                && settings
                    .get("unmigrate_command")
                    .and_then(toml::Value::as_str)
                    .is_some_and(|command| !command.trim().is_empty());
            roles.push((role, kind.tasks.keys().cloned().collect(), unmigrates));
        }
        let unmigrates = roles
            .iter()
            .filter(|(.., unmigrates)| *unmigrates)
            .map(|(role, ..)| StepSpec::Table {
                step: format!("{role}.{UNMIGRATE}"),
                continue_on_failure: false,
                once: true,
            });
        let rollbacks = roles
            .iter()
            .map(|(role, ..)| StepSpec::Name(format!("{role}.{ROLLBACK}")));
        let restarts = roles
            .iter()
            .filter(|(_, tasks, _)| tasks.iter().any(|task| task == "restart"))
            .map(|(role, ..)| StepSpec::Name(format!("{role}.restart")));
        unmigrates.chain(rollbacks).chain(restarts).collect()
    }

    /// The step `role.task` or `ALL.task` on each host that has something to do for it; for
    /// a [`Drain`] step, `draining` the hosts it takes out of the proxies (every role of the
    /// host takes part, whichever roles the run is limited to).
    fn jobs(
        &self,
        step: &str,
        scope: &Scope,
        draining: Option<&[String]>,
    ) -> Result<Vec<Job>, PlanError> {
        let Scope {
            library,
            hosts,
            request,
            params,
            stamp,
            roles,
        } = scope;
        let (role_name, task) = step.split_once('.').unwrap_or((step, ""));
        let mut jobs = Vec::new();
        for (index, host) in hosts.iter().enumerate() {
            let Some(machine) = self.file.machines.get(&host.machine) else {
                continue;
            };
            let mut commands = Vec::new();
            for (role, spec) in &machine.get_ref().roles {
                let wanted = role_name == "ALL" || role == role_name;
                let chosen = request.roles.is_empty() || request.roles.contains(role);
                if !wanted || !(chosen || draining.is_some()) {
                    continue;
                }
                let spec = spec.get_ref();
                let Some(kind) = library.resolve(&self.file.kinds, spec.kind.get_ref()) else {
                    continue;
                };
                let Some(actions) = kind.tasks.get(task) else {
                    continue;
                };
                let renderer = Renderer {
                    definition: self,
                    host,
                    role,
                    task,
                    settings: self.settings_on(host, spec, kind.settings),
                    params,
                    stamp,
                    scenario: &request.scenario,
                    roles,
                    draining: draining.unwrap_or_default(),
                };
                for action in actions {
                    commands.extend(renderer.render(action.get_ref())?);
                }
            }
            if !commands.is_empty() {
                jobs.push(Job {
                    host: index,
                    commands,
                });
            }
        }
        Ok(jobs)
    }

    /// The settings of role `spec` on `host`: its kind's (`settings`), the role's over them,
    /// the host's over those.
    fn settings_on(&self, host: &Host, spec: &Role, mut settings: toml::Table) -> toml::Table {
        settings.extend(spec.settings.clone());
        let own = self
            .file
            .machines
            .get(&host.machine)
            .and_then(|machine| machine.get_ref().host_settings.get(&host.name));
        if let Some(own) = own {
            settings.extend(own.get_ref().clone());
        }
        settings
    }

    /// What templates see as `roles`: each role's hosts, each with its `host` name, `address`
    /// (the one other machines reach it by), `kinds` (its kind's lineage) and settings.
    fn roles_on(&self, library: &Library, hosts: &[Host]) -> toml::Table {
        let mut roles = toml::Table::new();
        for host in hosts {
            let Some(machine) = self.file.machines.get(&host.machine) else {
                continue;
            };
            for (role, spec) in &machine.get_ref().roles {
                let spec = spec.get_ref();
                let Some(kind) = library.resolve(&self.file.kinds, spec.kind.get_ref()) else {
                    continue;
                };
                let mut member = self.settings_on(host, spec, kind.settings);
                member.insert("kinds".to_owned(), kind.lineage.into());
                member.insert("host".to_owned(), host.name.clone().into());
                member.insert("address".to_owned(), host.peer_address().into());
                let members = roles
                    .entry(role.clone())
                    .or_insert_with(|| toml::Value::Array(Vec::new()));
                if let toml::Value::Array(members) = members {
                    members.push(toml::Value::Table(member));
                }
            }
        }
        roles
    }
}

/// A new run's stamp: now in UTC, as `20261204T190000.123Z` (such names sort as times do).
pub fn run_stamp() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

/// The hosts that have something to do, in order, cut into batches of the sizes `serial` says.
fn batches(serial: &[BatchSize], hosts: &[Host], steps: &[Step]) -> Vec<Vec<usize>> {
    let busy: Vec<usize> = (0..hosts.len())
        .filter(|host| {
            steps
                .iter()
                .any(|step| step.jobs.iter().any(|job| job.host == *host))
        })
        .collect();
    let mut left = busy.as_slice();
    batch_sizes(serial, busy.len())
        .into_iter()
        .map(|size| {
            let (batch, rest) = left.split_at(size);
            left = rest;
            batch.to_vec()
        })
        .collect()
}

/// What every step of a plan is expanded with.
struct Scope<'a> {
    library: &'a Library,
    hosts: Vec<Host>,
    request: &'a StartRun,
    params: BTreeMap<String, String>,
    stamp: &'a str,
    roles: toml::Table,
}

impl Plan {
    /// The values of the parameters as they may be shown: secret ones hidden.
    pub fn shown_params(&self) -> BTreeMap<String, String> {
        knit_shared::params::masked(&self.declared, &self.params)
    }

    /// The values of the secret parameters, to hide wherever the run is shown.
    pub fn secret_params(&self) -> Vec<String> {
        self.declared
            .iter()
            .filter(|param| param.secret)
            .filter_map(|param| self.params.get(&param.name).cloned())
            .collect()
    }

    /// The plan as recorded with a run and shown in the progress grid.
    pub fn shape(&self) -> RunPlan {
        RunPlan {
            steps: self
                .steps
                .iter()
                .map(|step| PlannedStep {
                    name: step.name.clone(),
                    finally: step.finally,
                    hosts: step
                        .jobs
                        .iter()
                        .map(|job| self.hosts[job.host].name.clone())
                        .collect(),
                })
                .collect(),
            // The batches' hosts in their order, then the hosts with nothing to do.
            hosts: self
                .batches
                .iter()
                .flatten()
                .copied()
                .chain(
                    (0..self.hosts.len())
                        .filter(|host| !self.batches.iter().flatten().any(|h| h == host)),
                )
                .map(|index| {
                    let host = &self.hosts[index];
                    PlannedHost {
                        name: host.name.clone(),
                        machine: host.machine.clone(),
                        address: host.target.to_string(),
                    }
                })
                .collect(),
            batches: match self.batches.len() {
                1 => Vec::new(),
                _ => self.batches.iter().map(Vec::len).collect(),
            },
            stamp: self.stamp.clone(),
        }
    }
}
