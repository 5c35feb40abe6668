//! Secret settings given by where knit reads them rather than by value: `password_env =
//! "KNIT_SHOP_DB"` (a variable of knit's environment) or `password_file = "shop-db"` (a file in
//! knit's secrets folder, `<data dir>/secrets`) becomes the setting `password` when a run is
//! planned, so the secret is in no definition and no repository. Only `KNIT_` variables and that
//! folder: a definition must not be able to send knit's own AWS credentials or keys to a host.

use std::path::{Path, PathBuf};

use super::Definition;
use super::secrets::is_secret;

/// How a secret setting names its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `<secret>_env`: a `KNIT_` variable of knit's environment.
    Env,
    /// `<secret>_file`: a file of knit's secrets folder, its last line break dropped.
    File,
}

/// The secret setting `name` stands for and where it is read, for `password_env` or
/// `DJANGO_SECRET_KEY_FILE`; none for any other setting.
pub fn source_of(name: &str) -> Option<(&str, Source)> {
    let lower = name.to_ascii_lowercase();
    [("_env", Source::Env), ("_file", Source::File)]
        .into_iter()
        .find_map(|(suffix, source)| {
            let stem = &name[..lower.strip_suffix(suffix)?.len()];
            is_secret(stem).then_some((stem, source))
        })
}

/// What is wrong with `value` as the source of secret setting `name` in `settings`.
pub fn source_problem(settings: &toml::Table, name: &str, value: &toml::Value) -> Option<String> {
    let (stem, source) = source_of(name)?;
    let Some(text) = value.as_str() else {
        return Some(format!(
            "{name} names where to read {stem}: a text, not {value}"
        ));
    };
    if settings.contains_key(stem) {
        return Some(format!("give {stem} or {name}, not both"));
    }
    match source {
        Source::Env if !is_knit_variable(text) => Some(format!(
            "{name} names a variable of knit's own, KNIT_..., not {text:?}: knit's environment \
             holds its AWS credentials too"
        )),
        Source::File if !is_plain_file_name(text) => Some(format!(
            "{name} names a file of knit's secrets folder (<data dir>/secrets) by its name alone, \
             e.g. \"shop-db\", not {text:?}"
        )),
        _ => None,
    }
}

fn is_knit_variable(name: &str) -> bool {
    name.strip_prefix("KNIT_").is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    })
}

fn is_plain_file_name(name: &str) -> bool {
    !name.starts_with('.')
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// A secret that cannot be read where its setting says.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "{setting} = {variable:?}, and knit's environment has no such variable (or it is empty): \
         set it where knit runs"
    )]
    NoVariable { setting: String, variable: String },
    #[error("{setting} = {file:?}, and {} cannot be read: {source}", path.display())]
    Unreadable {
        setting: String,
        file: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{setting} = {file:?}, and {} is empty", path.display())]
    Empty {
        setting: String,
        file: String,
        path: PathBuf,
    },
}

impl Definition {
    /// Every secret setting given by its source replaced by the secret, read now from knit's
    /// environment or from the files of `folder`.
    pub fn read_secrets(&mut self, folder: &Path) -> Result<(), SecretError> {
        for (name, kind) in &mut self.file.kinds {
            read_in(
                &mut kind.get_mut().settings,
                &format!("kind {name}"),
                folder,
            )?;
        }
        for (machine, spec) in &mut self.file.machines {
            let spec = spec.get_mut();
            for (role, spec) in &mut spec.roles {
                let place = format!("role {role} of machine {machine}");
                read_in(&mut spec.get_mut().settings, &place, folder)?;
            }
            for (host, settings) in &mut spec.host_settings {
                read_in(settings.get_mut(), &format!("host_settings.{host}"), folder)?;
            }
        }
        Ok(())
    }
}

/// Reads the secrets `settings` (at `place`) names, in its tables too (an app's `env`).
fn read_in(settings: &mut toml::Table, place: &str, folder: &Path) -> Result<(), SecretError> {
    let sources: Vec<(String, String, Source)> = settings
        .keys()
        .filter_map(|name| {
            let (stem, source) = source_of(name)?;
            Some((name.clone(), stem.to_owned(), source))
        })
        .collect();
    for (name, stem, source) in sources {
        let setting = format!("{place}: {name}");
        let Some(toml::Value::String(named)) = settings.remove(&name) else {
            continue;
        };
        let secret = match source {
            Source::Env => std::env::var(&named)
                .ok()
                .filter(|value| !value.is_empty())
                .ok_or(SecretError::NoVariable {
                    setting,
                    variable: named,
                })?,
            Source::File => read_file(folder, setting, named)?,
        };
        settings.insert(stem, toml::Value::String(secret));
    }
    for (_, value) in settings.iter_mut() {
        if let toml::Value::Table(table) = value {
            read_in(table, place, folder)?;
        }
    }
    Ok(())
}

fn read_file(folder: &Path, setting: String, file: String) -> Result<String, SecretError> {
    let path = folder.join(&file);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.strip_suffix('\n').unwrap_or(&text);
            let secret = secret.strip_suffix('\r').unwrap_or(secret);
            if secret.is_empty() {
                return Err(SecretError::Empty {
                    setting,
                    file,
                    path,
                });
            }
            Ok(secret.to_owned())
        }
        Err(source) => Err(SecretError::Unreadable {
            setting,
            file,
            path,
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clusters::{Library, parse};

    #[test]
    fn only_secret_settings_have_sources() {
        assert_eq!(source_of("password_env"), Some(("password", Source::Env)));
        assert_eq!(
            source_of("DJANGO_SECRET_KEY_FILE"),
            Some(("DJANGO_SECRET_KEY", Source::File))
        );
        for plain in ["password", "site_file", "env", "listen_env", "_file"] {
            assert_eq!(source_of(plain), None, "{plain}");
        }
    }

    #[test]
    fn secrets_are_read_from_knit_variables_and_the_secrets_folder_only() {
        let table = |text: &str| -> toml::Table { toml::from_str(text).expect("toml") };
        let problem = |text: &str| {
            let settings = table(text);
            let (name, value) = settings.iter().next().expect("a setting");
            source_problem(&settings, name, value)
        };
        assert_eq!(problem("password_env = \"KNIT_SHOP_DB\""), None);
        assert_eq!(problem("password_file = \"shop-db.txt\""), None);
        for bad in [
            "password_env = \"AWS_SECRET_ACCESS_KEY\"",
            "password_env = \"KNIT_\"",
            "password_file = \"../.aws/credentials\"",
            "password_file = \"/root/.ssh/id_ed25519\"",
            "password_file = \".hidden\"",
            "password_file = 5",
        ] {
            assert!(problem(bad).is_some(), "{bad}");
        }
        let both = table("password = \"x\"\npassword_env = \"KNIT_X\"");
        let value = &both["password_env"];
        assert!(source_problem(&both, "password_env", value).is_some());
    }

    #[test]
    fn a_secret_file_becomes_its_setting_and_a_missing_one_is_named() {
        let folder = tempfile::tempdir().expect("a folder");
        std::fs::write(folder.path().join("shop-db"), "s3cret-pw\n").expect("written");
        let text = r#"[cluster]
name = "vault.test"
[machines.db]
hosts = ["10.0.0.9"]
[machines.db.roles.store]
kind = "vault"
password_file = "shop-db"
env = { API_TOKEN_FILE = "shop-db" }
[kinds.vault.tasks]
install = ["echo {{ password }}"]
"#;
        let mut definition = parse(Path::new("x.toml"), text, Library::builtin()).expect("valid");
        definition.read_secrets(folder.path()).expect("read");
        let role = definition.file.machines["db"].get_ref().roles["store"].get_ref();
        assert_eq!(role.settings["password"].as_str(), Some("s3cret-pw"));
        assert!(!role.settings.contains_key("password_file"));
        assert_eq!(
            role.settings["env"]["API_TOKEN"].as_str(),
            Some("s3cret-pw")
        );
        assert!(
            definition
                .secret_values(Library::builtin())
                .contains(&"s3cret-pw".to_owned())
        );

        let mut missing = parse(Path::new("x.toml"), text, Library::builtin()).expect("valid");
        std::fs::remove_file(folder.path().join("shop-db")).expect("removed");
        let error = missing.read_secrets(folder.path()).expect_err("no file");
        assert!(
            error
                .to_string()
                .starts_with("role store of machine db: password_file = \"shop-db\""),
            "{error}"
        );
    }
}
