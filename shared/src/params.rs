//! Scenario parameters: values given when a run starts (the version to deploy), checked by the
//! same rules in the browser, on the server and on the command line before anything runs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::validate::Invalid;

/// What a parameter without `pattern` or `choices` accepts: letters, digits and `._-/:@+`, at
/// most 200 characters. A deployer runs the scenarios of a definition, never commands of their
/// own, so no quote, space, `;`, `$` or line break may reach a command through a parameter.
pub const DEFAULT_PATTERN: &str = "^[A-Za-z0-9._/:@+-]{1,200}$";

/// Shown in place of a secret parameter's value.
pub const HIDDEN: &str = "****";

/// A parameter of a scenario, as the definition declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScenarioParam {
    /// Its name, e.g. `ref`: `{{ params.ref }}` and `{{ ref }}` in templates.
    pub name: String,
    /// What it is for, for the person starting the run.
    #[serde(default)]
    pub description: Option<String>,
    /// The value when none is given; without one the parameter is required. Of a secret
    /// parameter the console is told only that it has one (`HIDDEN`).
    #[serde(default)]
    pub default: Option<String>,
    /// A regular expression the whole value must match (see `DEFAULT_PATTERN`).
    #[serde(default)]
    pub pattern: Option<String>,
    /// The only values allowed, when given.
    #[serde(default)]
    pub choices: Vec<String>,
    /// Masked in every answer and log line.
    #[serde(default)]
    pub secret: bool,
}

impl ScenarioParam {
    /// The rule a value must follow, as said to a person.
    pub fn rule(&self) -> String {
        if self.choices.is_empty() {
            format!("must match {}", self.pattern())
        } else {
            format!("must be one of {}", self.choices.join(", "))
        }
    }

    /// The pattern values must match: the declared one, or `DEFAULT_PATTERN`.
    pub fn pattern(&self) -> &str {
        self.pattern.as_deref().unwrap_or(DEFAULT_PATTERN)
    }

    /// Whether `value` may be given for this parameter.
    pub fn check(&self, value: &str) -> Result<(), Invalid> {
        let allowed = if self.choices.is_empty() {
            whole(self.pattern())?.is_match(value)
        } else {
            self.choices.iter().any(|choice| choice == value)
        };
        if allowed {
            Ok(())
        } else {
            Err(refused(format!(
                "parameter {} {}{}",
                self.name,
                self.rule(),
                if self.secret {
                    String::new()
                } else {
                    format!(", not {value:?}")
                }
            )))
        }
    }
}

/// Checks that `pattern` is a regular expression knit can use.
pub fn compile(pattern: &str) -> Result<regex_lite::Regex, Invalid> {
    regex_lite::Regex::new(pattern).map_err(|error| {
        refused(format!(
            "pattern {pattern:?} is not a regular expression: {error}"
        ))
    })
}

/// `pattern` anchored at both ends, so that it must match the whole value, not a part of it.
fn whole(pattern: &str) -> Result<regex_lite::Regex, Invalid> {
    compile(pattern)?;
    compile(&format!("^(?:{pattern})$"))
}

/// The value of every parameter of `declared` for a run given `given`: the given ones, else
/// their defaults. Refused: a name not declared, a required one missing, a value against its rule.
pub fn resolve(
    declared: &[ScenarioParam],
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Invalid> {
    if let Some(unknown) = given
        .keys()
        .find(|name| !declared.iter().any(|param| &param.name == *name))
    {
        let known: Vec<&str> = declared.iter().map(|param| param.name.as_str()).collect();
        return Err(refused(format!(
            "unknown parameter {unknown}; this scenario takes {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    let mut values = BTreeMap::new();
    for param in declared {
        let Some(value) = given.get(&param.name).or(param.default.as_ref()) else {
            return Err(refused(format!(
                "parameter {} is required ({}); give it with --set {}=VALUE",
                param.name,
                param.rule(),
                param.name
            )));
        };
        param.check(value)?;
        values.insert(param.name.clone(), value.clone());
    }
    Ok(values)
}

/// `values` as recorded and shown: secret parameters' values hidden.
pub fn masked(
    declared: &[ScenarioParam],
    values: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(name, value)| {
            let secret = declared.iter().any(|p| &p.name == name && p.secret);
            let shown = if secret { HIDDEN } else { value.as_str() };
            (name.clone(), shown.to_owned())
        })
        .collect()
}

fn refused(message: String) -> Invalid {
    Invalid {
        field: "params",
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str) -> ScenarioParam {
        ScenarioParam {
            name: name.to_owned(),
            description: None,
            default: None,
            pattern: None,
            choices: Vec::new(),
            secret: false,
        }
    }

    fn given(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_fill_in_and_given_values_win() {
        let declared = [
            ScenarioParam {
                default: Some("main".to_owned()),
                ..param("ref")
            },
            ScenarioParam {
                choices: vec!["blue".to_owned(), "green".to_owned()],
                default: Some("blue".to_owned()),
                ..param("color")
            },
        ];
        let values = resolve(&declared, &given(&[("ref", "v2.1")])).expect("valid");
        assert_eq!(values, given(&[("color", "blue"), ("ref", "v2.1")]));
    }

    #[test]
    fn unknown_missing_and_invalid_values_are_refused_with_the_rule() {
        let declared = [param("ref")];
        let unknown = resolve(&declared, &given(&[("ref", "v1"), ("refs", "v2")]));
        assert!(
            unknown
                .expect_err("unknown")
                .message
                .contains("unknown parameter refs")
        );
        let missing = resolve(&declared, &BTreeMap::new()).expect_err("required");
        assert!(
            missing.message.contains("parameter ref is required"),
            "{missing}"
        );
        for attack in [
            "v1; touch /tmp/x",
            "$(id)",
            "v1\nrm -rf /",
            "a b",
            "'quoted'",
            "",
        ] {
            let refused = resolve(&declared, &given(&[("ref", attack)])).expect_err(attack);
            assert!(refused.message.contains("must match"), "{refused}");
        }
        let long = "a".repeat(201);
        assert!(resolve(&declared, &given(&[("ref", &long)])).is_err());
        let choices = [ScenarioParam {
            choices: vec!["v1".to_owned()],
            ..param("ref")
        }];
        let refused = resolve(&choices, &given(&[("ref", "v2")])).expect_err("not a choice");
        assert!(refused.message.contains("must be one of v1"), "{refused}");
    }

    #[test]
    fn a_declared_pattern_replaces_the_default_and_secrets_are_not_echoed() {
        let declared = [ScenarioParam {
            pattern: Some("^[0-9]+$".to_owned()),
            secret: true,
            ..param("pin")
        }];
        assert!(resolve(&declared, &given(&[("pin", "1234")])).is_ok());
        let refused = resolve(&declared, &given(&[("pin", "12x4")])).expect_err("not digits");
        assert!(!refused.message.contains("12x4"), "{refused}");
        let values = given(&[("pin", "1234")]);
        assert_eq!(masked(&declared, &values), given(&[("pin", HIDDEN)]));
    }

    #[test]
    fn a_declared_pattern_must_match_the_whole_value() {
        let declared = [ScenarioParam {
            pattern: Some("v[0-9]+".to_owned()),
            ..param("ref")
        }];
        assert!(resolve(&declared, &given(&[("ref", "v12")])).is_ok());
        for attack in ["v1'; id; '", "x v1", "v1\nid"] {
            assert!(
                resolve(&declared, &given(&[("ref", attack)])).is_err(),
                "{attack:?}"
            );
        }
        let either = [ScenarioParam {
            pattern: Some("a|b".to_owned()),
            ..param("letter")
        }];
        assert!(resolve(&either, &given(&[("letter", "b")])).is_ok());
        assert!(resolve(&either, &given(&[("letter", "ab")])).is_err());
    }
}
