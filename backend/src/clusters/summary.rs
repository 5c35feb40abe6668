//! A definition as the console lists it.

use knit_shared::{ClusterSummary, FirewallSummary, MachineSummary, RuleSummary, ScenarioSummary};

use super::{Definition, Library, ROLLBACK};

impl Definition {
    /// The built-in `rollback`, when the cluster has it.
    fn rollback_summary(&self) -> Option<ScenarioSummary> {
        let steps = self.builtin_rollback(Library::builtin());
        (!steps.is_empty()).then(|| ScenarioSummary {
            name: ROLLBACK.to_owned(),
            steps: steps.iter().map(|step| step.name().to_owned()).collect(),
            finally: Vec::new(),
            params: self.scenario_params_shown(ROLLBACK),
            schedule: None,
        })
    }

    pub fn summary(&self) -> ClusterSummary {
        let file = &self.file;
        ClusterSummary {
            name: self.name().to_owned(),
            file: self.path.display().to_string(),
            region: file.cluster.region.clone(),
            confirm: file.cluster.needs_confirmation(),
            frozen: None,
            approvers: file.cluster.approvers.clone(),
            approval: file
                .cluster
                .approval
                .iter()
                .map(|name| name.get_ref().clone())
                .collect(),
            tags: file.cluster.tags.clone().into_iter().collect(),
            machines: file
                .machines
                .iter()
                .map(|(name, machine)| {
                    let machine = machine.get_ref();
                    MachineSummary {
                        name: name.clone(),
                        hosts: machine
                            .hosts
                            .iter()
                            .flatten()
                            .map(|host| host.get_ref().clone())
                            .collect(),
                        ami: machine.ami.clone(),
                        instance_type: machine.instance_type.clone(),
                        roles: machine
                            .roles
                            .iter()
                            .map(|(role, spec)| {
                                (role.clone(), spec.get_ref().kind.get_ref().clone())
                            })
                            .collect(),
                        security_groups: machine
                            .security_groups
                            .iter()
                            .map(|group| group.get_ref().clone())
                            .collect(),
                        instances: Vec::new(),
                    }
                })
                .collect(),
            firewall: file
                .firewall
                .iter()
                .map(|(name, group)| FirewallSummary {
                    name: name.clone(),
                    rules: group
                        .get_ref()
                        .rules
                        .iter()
                        .map(|rule| {
                            let rule = rule.get_ref();
                            RuleSummary {
                                proto: rule.proto.clone(),
                                ports: rule.ports.clone(),
                                from: rule.from.clone(),
                            }
                        })
                        .collect(),
                })
                .collect(),
            scenarios: file
                .scenarios
                .iter()
                .map(|(name, scenario)| {
                    let steps = |list: &[toml::Spanned<super::format::Step>]| {
                        list.iter()
                            .map(|step| step.get_ref().name().to_owned())
                            .collect()
                    };
                    ScenarioSummary {
                        name: name.clone(),
                        steps: steps(&scenario.get_ref().steps),
                        finally: steps(&scenario.get_ref().finally),
                        params: self.scenario_params_shown(name),
                        schedule: schedule_summary(scenario.get_ref()),
                    }
                })
                .chain(self.rollback_summary())
                .collect(),
            operators: file.cluster.operators.clone(),
            active_run: None,
        }
    }
}

/// A scenario's schedule with its next occurrence; what the store knows is added later.
fn schedule_summary(scenario: &super::format::Scenario) -> Option<knit_shared::ScheduleSummary> {
    let schedule = super::schedule::Schedule::of(scenario)?.ok()?;
    Some(knit_shared::ScheduleSummary {
        next: schedule
            .next(chrono::Utc::now())
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        cron: schedule.expression,
        timezone: schedule.timezone,
        catch_up: schedule.catch_up,
        paused_by: None,
        last_run: None,
    })
}
