//! Rendering a role's actions for one host: minijinja templates over the role's settings, the
//! host's, the run's parameters and the cluster's roles, with knit's own helpers at hand.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, ErrorKind, State, UndefinedBehavior};

use super::Definition;
use super::check::upload_source;
use super::format::{Action, FileAction};
use super::plan::{Command, Host, PlanError};
use crate::ssh::exec::quote;

macro_rules! template {
    ($name:literal) => {
        ($name, include_str!(concat!("builtin/", $name)))
    };
}

/// The templates of the built-in kinds, by name; `knit.j2` holds the macros every template may call
/// as `knit.<name>(...)`. Their folder is builtin/.
const TEMPLATES: &[(&str, &str)] = &[
    template!("app/app.service"),
    template!("app/command.sh"),
    template!("app/install.sh"),
    template!("app/knit.env"),
    template!("app/restart.sh"),
    template!("app/rollback.sh"),
    template!("app/update.sh"),
    template!("knit.j2"),
    template!("memcache/apply.sh"),
    template!("memcache/memcached.conf"),
    template!("nginx/apply.sh"),
    template!("nginx/commands.sh"),
    template!("nginx/install.sh"),
    template!("nginx/maintenance.conf"),
    template!("nginx/maintenance.html"),
    template!("nginx/nginx.conf"),
    template!("nginx/site.conf"),
    template!("nginx/switch.sh"),
    template!("postgres/apply.sh"),
    template!("postgres/bouncer_hba.conf"),
    template!("postgres/install.sh"),
    template!("postgres/knit.conf"),
    template!("postgres/paths.j2"),
    template!("postgres/pg_hba.conf"),
    template!("postgres/pgbouncer.ini"),
    template!("postgres/userlist.txt"),
    template!("redis/apply.sh"),
    template!("redis/redis.conf"),
];

/// Put before every template: it makes the macros available and prints nothing.
const IMPORT: &str = r#"{% import "knit.j2" as knit %}"#;

/// One environment for every template: its settings and helpers never change.
static ENVIRONMENT: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // A misspelt setting must fail here, not become an empty string in a shell command.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Uploaded files keep their last line break.
    let syntax = SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid");
    env.set_syntax(syntax);
    env.add_function("prefixed", prefixed);
    env.add_function("fail", fail);
    for (name, text) in TEMPLATES {
        env.add_template(name, text)
            .unwrap_or_else(|error| panic!("built-in template {name}: {error}"));
    }
    env
});

/// `prefixed("etc/redis/redis.conf")`: the path under the role's `prefix` setting, so that `/`
/// gives the system's own `/etc/redis/redis.conf` and `/home/deploy/knit` a private copy.
fn prefixed(state: &State, path: &str) -> Result<String, minijinja::Error> {
    let prefix = state
        .lookup("prefix")
        .filter(|value| !value.is_undefined())
        .ok_or_else(|| {
            minijinja::Error::new(
                ErrorKind::UndefinedError,
                "prefixed() needs the role's prefix setting",
            )
        })?;
    let prefix = prefix.to_string();
    Ok(format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        path.trim_start_matches('/')
    ))
}

/// `fail("why")`: stops the plan with a message, for what a template finds wrong.
fn fail(message: String) -> Result<String, minijinja::Error> {
    Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
}

/// Renders the actions of one role's task for one host.
pub struct Renderer<'a> {
    pub definition: &'a Definition,
    pub host: &'a Host,
    pub role: &'a str,
    pub task: &'a str,
    /// The kind's settings, the role's over them, the host's over those.
    pub settings: toml::Table,
    pub params: &'a BTreeMap<String, String>,
    /// Every role of the cluster with the hosts that carry it: `roles.app` lists each app host's
    /// `host`, `address` and settings, e.g. for a proxy's upstream.
    pub roles: &'a toml::Table,
}

impl Renderer<'_> {
    /// The command of `action`; none for a file whose `to` renders empty (a file only some
    /// settings want, e.g. nginx's own configuration with `services = "user"`).
    pub fn render(&self, action: &Action) -> Result<Option<Command>, PlanError> {
        let role = self.role.to_owned();
        Ok(Some(match action {
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
            Action::File(file) => return self.file(file),
        }))
    }

    fn file(&self, file: &FileAction) -> Result<Option<Command>, PlanError> {
        let to = self.text(&file.to)?;
        if to.trim().is_empty() {
            return Ok(None);
        }
        let (from, template) = match (&file.upload, &file.write) {
            (Some(upload), _) => {
                let folder = self.definition.path.parent().unwrap_or(".".as_ref());
                // Checked again: a link may have changed since the definition was read.
                let source = upload_source(folder, upload).map_err(PlanError::Outside)?;
                let text = std::fs::read_to_string(&source).map_err(|error| PlanError::Upload {
                    role: self.role.to_owned(),
                    task: self.task.to_owned(),
                    path: source.clone(),
                    source: error,
                })?;
                (Some(source.display().to_string()), text)
            }
            (None, Some(text)) => (None, text.clone()),
            (None, None) => unreachable!("the definition checks want upload or write"),
        };
        let script = file_script(
            &to,
            &self.text(&file.sudo)?,
            &self.text(&file.owner)?,
            &self.text(&file.mode)?,
        )
        .map_err(|detail| self.failed(detail))?;
        Ok(Some(Command::Upload {
            role: self.role.to_owned(),
            from,
            content: self.text(&template)?,
            upload_script: script,
            to,
        }))
    }

    pub fn text(&self, template: &str) -> Result<String, PlanError> {
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
        context.insert("roles".to_owned(), toml::Value::Table(self.roles.clone()));
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
        ENVIRONMENT
            .render_str(
                &format!("{IMPORT}{template}"),
                minijinja::Value::from(minijinja::value::Serde(&context)),
            )
            .map_err(|error| self.failed(explained(&error)))
    }

    fn failed(&self, detail: String) -> PlanError {
        PlanError::Render {
            role: self.role.to_owned(),
            task: self.task.to_owned(),
            host: self.host.name.clone(),
            detail,
        }
    }
}

/// A template error with the errors that caused it: an include's says only that the included
/// template failed, its cause says where and why.
fn explained(error: &minijinja::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// Writes standard input to `to` in one step (a reader never sees half a file), and only when
/// it differs, saying which: `wrote: <path>` or `unchanged: <path>`. `to` is double-quoted, so
/// `$HOME` in it expands but spaces do not split it.
fn file_script(to: &str, sudo: &str, owner: &str, mode: &str) -> Result<String, String> {
    if mode.is_empty() || mode.len() > 4 || !mode.chars().all(|c| ('0'..='7').contains(&c)) {
        return Err(format!("mode {mode:?} must be octal, e.g. \"640\""));
    }
    let mut quoted = String::with_capacity(to.len() + 2);
    for c in to.chars() {
        if matches!(c, '\\' | '"' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    let owner = match owner {
        "" => String::new(),
        owner => format!("-o {} ", quote(owner)),
    };
    Ok(format!(
        "f=\"{quoted}\"; t=$(mktemp) && cat > \"$t\" || exit 1\n\
         if {sudo} cmp -s \"$t\" \"$f\"; then rm -f \"$t\"; echo \"unchanged: $f\"; exit 0; fi\n\
         {sudo} mkdir -p \"$(dirname \"$f\")\" && {sudo} install {owner}-m {mode} \"$t\" \"$f\"; s=$?\n\
         rm -f \"$t\"; [ $s = 0 ] && echo \"wrote: $f\""
    ))
}

#[cfg(test)]
mod tests {
    use super::file_script;

    #[test]
    fn a_file_mode_must_be_octal() {
        assert!(file_script("/etc/x", "", "", "640").is_ok());
        for bad in ["", "9", "0644x", "12345", "u+x"] {
            assert!(file_script("/etc/x", "", "", bad).is_err(), "{bad}");
        }
    }
}
