//! The secret settings of a definition: values a run log must never show.

use super::{Definition, Library};

/// A setting whose name contains one of these holds a secret.
const SECRET_NAMES: [&str; 5] = ["password", "secret", "token", "private_key", "api_key"];

impl Definition {
    /// The string values of every role's settings (its kind's, then its own) whose names say
    /// they are secret, e.g. `db_password` or `api_token`.
    pub fn secret_values(&self, library: &Library) -> Vec<String> {
        let mut values = Vec::new();
        for machine in self.file.machines.values() {
            for role in machine.get_ref().roles.values() {
                let role = role.get_ref();
                let inherited = library
                    .resolve(&self.file.kinds, role.kind.get_ref())
                    .map(|kind| kind.settings)
                    .unwrap_or_default();
                for (name, value) in inherited.iter().chain(role.settings.iter()) {
                    if let (true, Some(text)) = (is_secret(name), value.as_str()) {
                        values.push(text.to_owned());
                    }
                }
            }
        }
        values
    }
}

fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_NAMES.iter().any(|secret| name.contains(secret))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::clusters::{Library, parse};

    #[test]
    fn secret_settings_of_roles_and_kinds_are_found() {
        let text = r#"[cluster]
name = "vault.test"

[machines.db]
hosts = ["10.0.0.9"]
[machines.db.roles.store]
kind = "vault"
db_password = "role-s3cret"
db_name = "shop"

[kinds.vault.settings]
api_token = "kind-t0ken"
port = 5432
[kinds.vault.tasks]
install = ["echo {{ db_name }}"]
"#;
        let definition = parse(Path::new("x.toml"), text, Library::builtin()).expect("valid");
        let mut found = definition.secret_values(Library::builtin());
        found.sort();
        assert_eq!(found, ["kind-t0ken", "role-s3cret"]);
    }
}
