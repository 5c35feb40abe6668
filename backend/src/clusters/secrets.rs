//! The secret settings of a definition: values a run log must never show.

use super::secret_sources::source_of;
use super::{Definition, Library};

/// A setting whose name contains one of these holds a secret.
const SECRET_NAMES: [&str; 5] = ["password", "secret", "token", "private_key", "api_key"];

impl Definition {
    /// The values of every setting (a kind's, a role's, a host's) whose name says it is
    /// secret, e.g. `db_password` or `api_token`, also inside a table of another name (`env =
    /// { DB_PASSWORD = … }`), as a template shows them: a number as its digits, each item of a
    /// list or table on its own.
    pub fn secret_values(&self, library: &Library) -> Vec<String> {
        let mut values = Vec::new();
        for machine in self.file.machines.values() {
            let machine = machine.get_ref();
            for role in machine.roles.values() {
                let role = role.get_ref();
                let inherited = library
                    .resolve(&self.file.kinds, role.kind.get_ref())
                    .map(|kind| kind.settings)
                    .unwrap_or_default();
                secrets_in(&inherited, &mut values);
                secrets_in(&role.settings, &mut values);
            }
            for settings in machine.host_settings.values() {
                secrets_in(settings.get_ref(), &mut values);
            }
        }
        values
    }
}

/// The values of `settings` whose names say they are secret, looking into tables of other names.
fn secrets_in(settings: &toml::Table, values: &mut Vec<String>) {
    for (name, value) in settings {
        match value {
            // Where a secret is read is no secret: it is read before a run and gone by then.
            _ if source_of(name).is_some() => {}
            _ if is_secret(name) => shown_as(value, values),
            toml::Value::Table(table) => secrets_in(table, values),
            toml::Value::Array(items) => {
                for item in items {
                    if let toml::Value::Table(table) = item {
                        secrets_in(table, values);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The texts a template may print of `value`.
fn shown_as(value: &toml::Value, texts: &mut Vec<String>) {
    match value {
        toml::Value::String(text) => texts.push(text.clone()),
        toml::Value::Array(items) => items.iter().for_each(|item| shown_as(item, texts)),
        toml::Value::Table(table) => table.values().for_each(|item| shown_as(item, texts)),
        other => texts.push(other.to_string()),
    }
}

pub(super) fn is_secret(name: &str) -> bool {
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
backup_pin_secret = 12345678
replica_passwords = ["first-s3cret", { spare = "second-s3cret" }]
env = { DB_PASSWORD = "nested-s3cret", MODE = "fast" }
[machines.db.host_settings.db-1]
backup_token = "host-t0ken"

[kinds.vault.settings]
api_token = "kind-t0ken"
port = 5432
[kinds.vault.tasks]
install = ["echo {{ db_name }}"]
"#;
        let definition = parse(Path::new("x.toml"), text, Library::builtin()).expect("valid");
        let mut found = definition.secret_values(Library::builtin());
        found.sort();
        assert_eq!(
            found,
            [
                "12345678",
                "first-s3cret",
                "host-t0ken",
                "kind-t0ken",
                "nested-s3cret",
                "role-s3cret",
                "second-s3cret"
            ]
        );
    }
}
