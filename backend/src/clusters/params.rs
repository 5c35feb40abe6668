//! A scenario's parameters as `shared` declares them, for the console, the checks and a run.

use std::collections::BTreeMap;

use knit_shared::{Invalid, ScenarioParam, params};

use super::format::Param;
use super::{Definition, ROLLBACK};

/// Parameter `name` as declared by `spec`.
pub fn declared(name: &str, spec: &Param) -> ScenarioParam {
    ScenarioParam {
        name: name.to_owned(),
        description: spec.description.clone(),
        default: spec.default.clone(),
        pattern: spec.pattern.clone(),
        choices: spec.choices.clone().unwrap_or_default(),
        secret: spec.secret,
    }
}

/// The built-in `rollback`'s one parameter: the release to go back to.
pub fn rollback_release() -> ScenarioParam {
    ScenarioParam {
        name: "release".to_owned(),
        description: Some(
            "a kept release folder to go back to; the one before the current when empty".to_owned(),
        ),
        default: Some(String::new()),
        pattern: Some("^$|^[0-9]{8}T[0-9]{6}(\\.[0-9]{3})?Z-[0-9a-f]{7,40}$".to_owned()),
        choices: Vec::new(),
        secret: false,
    }
}

impl Definition {
    /// The parameters of `scenario`; none for `install` and unknown names.
    pub fn scenario_params(&self, scenario: &str) -> Vec<ScenarioParam> {
        match self.file.scenarios.get(scenario) {
            Some(found) => found
                .get_ref()
                .params
                .iter()
                .map(|(name, spec)| declared(name, spec.get_ref()))
                .collect(),
            None if scenario == ROLLBACK => vec![rollback_release()],
            None => Vec::new(),
        }
    }

    /// The parameters of `scenario` as the console lists them: of a secret one's default, only
    /// that there is one.
    pub fn scenario_params_shown(&self, scenario: &str) -> Vec<ScenarioParam> {
        let mut shown = self.scenario_params(scenario);
        for param in shown.iter_mut().filter(|param| param.secret) {
            if param.default.is_some() {
                param.default = Some(params::HIDDEN.to_owned());
            }
        }
        shown
    }

    /// The value of each of `scenario`'s parameters for a run given `given`.
    pub fn param_values(
        &self,
        scenario: &str,
        given: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, Invalid> {
        params::resolve(&self.scenario_params(scenario), given)
    }
}
