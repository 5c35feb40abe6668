//! A scenario's parameters as `shared` declares them, for the console, the checks and a run.

use std::collections::BTreeMap;

use knit_shared::{Invalid, ScenarioParam, params};

use super::Definition;
use super::format::Param;

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

impl Definition {
    /// The parameters of `scenario`; none for the built-in ones and unknown names.
    pub fn scenario_params(&self, scenario: &str) -> Vec<ScenarioParam> {
        self.file
            .scenarios
            .get(scenario)
            .map(|found| {
                found
                    .get_ref()
                    .params
                    .iter()
                    .map(|(name, spec)| declared(name, spec.get_ref()))
                    .collect()
            })
            .unwrap_or_default()
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
