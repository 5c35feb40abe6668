//! Expanding a scenario into what runs: its steps × the hosts of their roles, every command and
//! upload rendered from the role's settings. Everything that can go wrong before a host is
//! touched goes wrong here, so a bad template or a missing file stops a run before it starts.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use knit_shared::{Invalid, PlannedHost, PlannedStep, RunPlan, ScenarioParam};
use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior};

use super::check::upload_source;
use super::format::{Action, Step as StepSpec};
use super::{Definition, Library};
use crate::ssh::SshTarget;

/// The scenario every cluster has without defining it: every role's `install`.
pub const INSTALL: &str = "install";
/// The scenario a cluster has without defining it when a role has a `rollback` task: each such
/// role's `rollback`, then their `restart`.
pub const ROLLBACK: &str = "rollback";

/// A host of a run: a short name, its machine, and where to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub machine: String,
    pub target: SshTarget,
}

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
}

#[derive(Debug, Clone)]
pub struct Step {
    /// `role.task` or `ALL.task`.
    pub name: String,
    pub finally: bool,
    pub continue_on_failure: bool,
    /// Runs on one host of each of its roles: the first still in the run.
    pub once: bool,
    pub jobs: Vec<Job>,
}

/// What one step does on one host.
#[derive(Debug, Clone)]
pub struct Job {
    /// Index into the plan's hosts.
    pub host: usize,
    pub commands: Vec<Command>,
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

/// One rendered action of a role's task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run {
        role: String,
        script: String,
        continue_on_error: bool,
        timeout: Option<Duration>,
    },
    Upload {
        role: String,
        source: PathBuf,
        content: String,
        to: String,
        /// The shell script that writes its standard input to `to`.
        upload_script: String,
    },
}

/// What a run asks for besides its scenario: only some hosts or roles (empty lists narrow
/// nothing), and values of the scenario's parameters.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    pub hosts: Vec<String>,
    pub roles: Vec<String>,
    pub params: BTreeMap<String, String>,
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
    #[error("{role}.{task} cannot be rendered for {host}: {detail}")]
    Render {
        role: String,
        task: String,
        host: String,
        detail: String,
    },
    #[error("{0}")]
    Outside(String),
    #[error("{role}.{task} uploads {path}, which cannot be read: {source}")]
    Upload {
        role: String,
        task: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("nothing to run: no host carries the roles of {scenario}")]
    Empty { scenario: String },
    /// A parameter unknown, missing, or against its rule.
    #[error("{0}")]
    Params(Invalid),
}

impl Definition {
    /// Hosts of the machines given as static inventory, named `<machine>-<n>`.
    pub fn static_hosts(&self) -> BTreeMap<String, Vec<SshTarget>> {
        self.file
            .machines
            .iter()
            .filter_map(|(name, machine)| {
                let hosts = machine.get_ref().hosts.as_ref()?;
                let targets = hosts
                    .iter()
                    .map(|h| SshTarget::parse(h.get_ref()))
                    .collect();
                Some((name.clone(), targets))
            })
            .collect()
    }

    /// Expands `scenario` (or `install`) over `machine_hosts`, the hosts found for each machine,
    /// as `request` asks.
    pub fn plan(
        &self,
        library: &Library,
        scenario: &str,
        machine_hosts: &BTreeMap<String, Vec<SshTarget>>,
        request: &RunRequest,
    ) -> Result<Plan, PlanError> {
        let cluster = self.name().to_owned();
        let (steps, finally) = self.scenario_steps(library, scenario)?;
        let params = self
            .param_values(scenario, &request.params)
            .map_err(PlanError::Params)?;
        let hosts = self.hosts(machine_hosts, request)?;
        if let Some(role) = request.roles.iter().find(|role| !self.has_role(role)) {
            return Err(PlanError::UnknownRole {
                cluster,
                role: role.clone(),
            });
        }
        let mut planned = Vec::new();
        for (spec, is_finally) in steps
            .iter()
            .map(|s| (s, false))
            .chain(finally.iter().map(|s| (s, true)))
        {
            let jobs = self.jobs(library, spec.name(), &hosts, request, &params)?;
            if !jobs.is_empty() {
                planned.push(Step {
                    name: spec.name().to_owned(),
                    finally: is_finally,
                    continue_on_failure: spec.continues_on_failure(),
                    once: spec.once(),
                    jobs,
                });
            }
        }
        if planned.is_empty() {
            return Err(PlanError::Empty {
                scenario: scenario.to_owned(),
            });
        }
        Ok(Plan {
            cluster,
            scenario: scenario.to_owned(),
            hosts,
            steps: planned,
            parallel: self
                .file
                .cluster
                .parallel
                .as_ref()
                .map_or(20, |p| *p.get_ref()),
            declared: self.scenario_params(scenario),
            params,
        })
    }

    /// Every host of `machine_hosts`, named `<machine>-<n>` in the order of the definition.
    pub fn named_hosts(&self, machine_hosts: &BTreeMap<String, Vec<SshTarget>>) -> Vec<Host> {
        self.file
            .machines
            .keys()
            .flat_map(|machine| {
                let targets = machine_hosts
                    .get(machine)
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                targets.iter().enumerate().map(move |(index, target)| Host {
                    name: format!("{machine}-{}", index + 1),
                    machine: machine.clone(),
                    target: target.clone(),
                })
            })
            .collect()
    }

    fn hosts(
        &self,
        machine_hosts: &BTreeMap<String, Vec<SshTarget>>,
        request: &RunRequest,
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
    /// a `rollback` task): each such role's `rollback`, then the `restart` of those that have one.
    pub fn builtin_rollback(&self, library: &Library) -> Vec<StepSpec> {
        if self.file.scenarios.contains_key(ROLLBACK) {
            return Vec::new();
        }
        let mut roles: Vec<(&str, Vec<String>)> = Vec::new();
        for (role, spec) in self.file.machines.values().flat_map(|m| &m.get_ref().roles) {
            let tasks = library
                .tasks(&self.file.kinds, spec.get_ref().kind.get_ref())
                .unwrap_or_default();
            if tasks.contains(ROLLBACK) && !roles.iter().any(|(known, _)| known == role) {
                roles.push((role, tasks.into_iter().collect()));
            }
        }
        let rollbacks = roles
            .iter()
            .map(|(role, _)| StepSpec::Name(format!("{role}.{ROLLBACK}")));
        let restarts = roles
            .iter()
            .filter(|(_, tasks)| tasks.iter().any(|task| task == "restart"))
            .map(|(role, _)| StepSpec::Name(format!("{role}.restart")));
        rollbacks.chain(restarts).collect()
    }

    /// The step `role.task` or `ALL.task` on each host that has something to do for it.
    fn jobs(
        &self,
        library: &Library,
        step: &str,
        hosts: &[Host],
        request: &RunRequest,
        params: &BTreeMap<String, String>,
    ) -> Result<Vec<Job>, PlanError> {
        let (role_name, task) = step.split_once('.').unwrap_or((step, ""));
        let mut jobs = Vec::new();
        for (index, host) in hosts.iter().enumerate() {
            let Some(machine) = self.file.machines.get(&host.machine) else {
                continue;
            };
            let mut commands = Vec::new();
            for (role, spec) in &machine.get_ref().roles {
                let wanted = role_name == "ALL" || role == role_name;
                if !wanted || !(request.roles.is_empty() || request.roles.contains(role)) {
                    continue;
                }
                let spec = spec.get_ref();
                let Some(kind) = library.resolve(&self.file.kinds, spec.kind.get_ref()) else {
                    continue;
                };
                let Some(actions) = kind.tasks.get(task) else {
                    continue;
                };
                let mut settings = kind.settings;
                settings.extend(spec.settings.clone());
                let renderer = Renderer {
                    definition: self,
                    host,
                    role,
                    task,
                    settings,
                    params,
                };
                for action in actions {
                    commands.push(renderer.render(action.get_ref())?);
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
}

/// Renders the actions of one role's task for one host.
struct Renderer<'a> {
    definition: &'a Definition,
    host: &'a Host,
    role: &'a str,
    task: &'a str,
    settings: toml::Table,
    params: &'a BTreeMap<String, String>,
}

impl Renderer<'_> {
    fn render(&self, action: &Action) -> Result<Command, PlanError> {
        let role = self.role.to_owned();
        Ok(match action {
            Action::Command(script) => Command::Run {
                role,
                script: self.text(script)?,
                continue_on_error: false,
                timeout: None,
            },
            Action::Run(run) => Command::Run {
                role,
                script: self.text(&run.run)?,
                continue_on_error: run.continue_on_error,
                // The definition checks refused any timeout that does not parse.
                timeout: run.timeout().ok().flatten(),
            },
            Action::Upload(upload) => {
                let folder = self.definition.path.parent().unwrap_or(".".as_ref());
                // Checked again: a link may have changed since the definition was read.
                let source = upload_source(folder, &upload.upload).map_err(PlanError::Outside)?;
                let template =
                    std::fs::read_to_string(&source).map_err(|error| PlanError::Upload {
                        role: self.role.to_owned(),
                        task: self.task.to_owned(),
                        path: source.clone(),
                        source: error,
                    })?;
                let to = self.text(&upload.to)?;
                Command::Upload {
                    role,
                    content: self.text(&template)?,
                    upload_script: upload_script(&to),
                    to,
                    source,
                }
            }
        })
    }

    fn text(&self, template: &str) -> Result<String, PlanError> {
        let mut env = Environment::new();
        // A misspelt setting must fail here, not become an empty string in a shell command.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Uploaded files keep their last line break.
        let syntax = SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid");
        env.set_syntax(syntax);
        let cluster = &self.definition.file.cluster;
        let mut context = self.settings.clone();
        // A parameter overrides the role's setting of its name, for this run.
        let params: toml::Table = self
            .params
            .iter()
            .map(|(name, value)| (name.clone(), toml::Value::String(value.clone())))
            .collect();
        context.extend(params.clone());
        context.insert("params".to_owned(), toml::Value::Table(params));
        for (key, value) in [
            ("host", Some(self.host.name.as_str())),
            ("machine", Some(self.host.machine.as_str())),
            ("role", Some(self.role)),
            ("cluster", Some(self.definition.name())),
            ("domain", cluster.domain.as_deref()),
        ] {
            if let Some(value) = value {
                context.insert(key.to_owned(), toml::Value::String(value.to_owned()));
            }
        }
        env.render_str(
            template,
            minijinja::Value::from(minijinja::value::Serde(&context)),
        )
        .map_err(|error| PlanError::Render {
            role: self.role.to_owned(),
            task: self.task.to_owned(),
            host: self.host.name.clone(),
            detail: error.to_string(),
        })
    }
}

/// Writes standard input to `to`, creating its folder first. `to` is double-quoted, so
/// `$HOME` in it expands but spaces do not split it.
fn upload_script(to: &str) -> String {
    let mut quoted = String::with_capacity(to.len() + 2);
    for c in to.chars() {
        if matches!(c, '\\' | '"' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    format!("f=\"{quoted}\"; mkdir -p \"$(dirname \"$f\")\" && cat > \"$f\"")
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
            hosts: self
                .hosts
                .iter()
                .map(|host| PlannedHost {
                    name: host.name.clone(),
                    machine: host.machine.clone(),
                    address: host.target.to_string(),
                })
                .collect(),
        }
    }
}
