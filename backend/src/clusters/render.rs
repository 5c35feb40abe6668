//! Rendering a role's actions for one host: minijinja templates over the role's settings, the
//! host's, the run's parameters and the cluster's roles, with knit's own helpers at hand.
//!
//! In a shell command every `{{ value }}` is printed shell-quoted, one literal word whatever it
//! holds, unless the template marks it `|safe` (a setting that is itself a command, `sudo`):
//! a value never becomes code by what it contains. A file's path is quoted for the double
//! quotes it is put in; a file's content is written as rendered.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, ErrorKind, Output, State, UndefinedBehavior};

use super::Definition;
use super::check::upload_source;
use super::commands::{Command, Host, NO_FILE};
use super::format::{Action, FileAction};
use knit_shared::shell::quote;

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
    template!("app/diff.sh"),
    template!("app/install.sh"),
    template!("app/knit.env"),
    template!("app/restart.sh"),
    template!("app/rollback.sh"),
    template!("app/start.sh"),
    template!("app/prepare.sh"),
    template!("app/switch.sh"),
    template!("app/target.sh"),
    template!("app/unmigrate.sh"),
    template!("app/schema.sh"),
    template!("knit.j2"),
    template!("memcache/apply.sh"),
    template!("memcache/memcached.conf"),
    template!("nginx/apply.sh"),
    template!("nginx/commands.sh"),
    template!("nginx/drain.sh"),
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
    template!("postgres/pgpass"),
    template!("postgres/pgbouncer.ini"),
    template!("postgres/userlist.txt"),
    template!("redis/apply.sh"),
    template!("redis/redis.conf"),
];

/// Put before every template: it makes the macros available and prints nothing.
const IMPORT: &str = r#"{% import "knit.j2" as knit %}"#;

/// How the values a template prints are escaped: the auto-escape of the template's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// Shell code: each value one single-quoted word (`run` actions, `*.sh`, `knit.j2`).
    Shell,
    /// The inside of a double-quoted shell word: a file's `to`, where `$HOME` may expand.
    DoubleQuoted,
    /// Printed as they are: a file's content, `sudo`, `owner`, `mode`.
    Plain,
}

const SHELL: &str = "shell";
const DOUBLE_QUOTED: &str = "double-quoted";

impl Quoting {
    /// The name a template is rendered under, which decides its auto-escape.
    fn template_name(self) -> &'static str {
        match self {
            Self::Shell => "action.sh",
            Self::DoubleQuoted => "path.dq",
            Self::Plain => "text",
        }
    }
}

/// The auto-escape of template `name`: included templates keep their own, by their names.
fn auto_escape(name: &str) -> AutoEscape {
    if name.ends_with(".sh") || name == "knit.j2" {
        AutoEscape::Custom(SHELL.into())
    } else if name.ends_with(".dq") {
        AutoEscape::Custom(DOUBLE_QUOTED.into())
    } else {
        AutoEscape::None
    }
}

/// Prints `value` as the template's auto-escape wants it: numbers, booleans and values marked
/// safe as they are; any other value quoted.
fn format(out: &mut Output, state: &mut State, value: &Value) -> Result<(), minijinja::Error> {
    let raw = value.is_safe() || matches!(value.kind(), ValueKind::Number | ValueKind::Bool);
    let text = match state.auto_escape() {
        _ if raw => value.to_string(),
        AutoEscape::None => value.to_string(),
        AutoEscape::Custom(name) if name == SHELL => quote(&value.to_string()),
        AutoEscape::Custom(name) if name == DOUBLE_QUOTED => {
            inside_double_quotes(&value.to_string())
        }
        other => {
            return Err(minijinja::Error::new(
                ErrorKind::InvalidOperation,
                format!("no such quoting: {other:?}"),
            ));
        }
    };
    out.write_str(&text).map_err(minijinja::Error::from)
}

/// `text` escaped to stay literal between double quotes.
fn inside_double_quotes(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '`' | '$') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// `value|quote`: the value as one shell word, for a command assembled in a template from
/// values (a service's `start`) and printed with `|safe`. Its result is not marked safe: joined
/// with `~` to a safe string, minijinja would quote the template's own words too.
fn quote_filter(value: &Value) -> String {
    quote(&value.to_string())
}

/// `name|sql_literal`: a SQL string literal, `'it''s'`.
fn sql_literal(value: &Value) -> String {
    format!("'{}'", value.to_string().replace('\'', "''"))
}

/// `name|sql_name`: a SQL identifier, `"my ""db"""`.
fn sql_name(value: &Value) -> String {
    format!("\"{}\"", value.to_string().replace('"', "\"\""))
}

/// `value|env_value`: single-quoted for the app's environment file, which both `sh` and
/// systemd read; neither reads a quote or a line break inside it the same way.
fn env_value(value: &Value) -> Result<String, minijinja::Error> {
    let text = value.to_string();
    if text.contains(['\'', '\n']) {
        return Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            "a value of the environment file has a single quote or a line break, which it cannot hold",
        ));
    }
    Ok(format!("'{text}'"))
}

/// `text|expand`: a setting's text rendered as a template with what the template that prints
/// it sees, so an app's `env` can name another role's address
/// (`"{{ roles.postgres[0].address }}"`). Values print as they are: the caller quotes.
fn expand(state: &State, text: &str) -> Result<String, minijinja::Error> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_owned());
    }
    let context: BTreeMap<String, Value> = state
        .known_variables()
        .into_iter()
        .filter_map(|name| Some((name.to_string(), state.lookup(&name)?)))
        .collect();
    state
        .env()
        .render_named_str(Quoting::Plain.template_name(), text, context)
}

/// `password|scram_verifier(context)`: the SCRAM-SHA-256 verifier PostgreSQL and pgbouncer
/// keep of a password; `context` (e.g. the cluster and the user) goes into its salt.
fn scram_verifier(password: &str, context: &str) -> Result<String, minijinja::Error> {
    super::scram::verifier(password, context)
        .map_err(|message| minijinja::Error::new(ErrorKind::InvalidOperation, message))
}

/// `address|cidr`: an IP address as the network of that one address (`10.0.0.5/32`), for
/// access rules that take networks only.
fn cidr(address: &str) -> Result<String, minijinja::Error> {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => Ok(format!("{ip}/32")),
        Ok(std::net::IpAddr::V6(ip)) => Ok(format!("{ip}/128")),
        Err(_) => Err(minijinja::Error::new(
            ErrorKind::InvalidOperation,
            format!("{address:?} is no IP address"),
        )),
    }
}

/// `text|url_part`: percent-encoded but for the characters a URL never reads as its own
/// (letters, digits, `-._~`), for a password inside `postgresql://user:password@host/`.
fn url_part(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// `list|words`: each item one shell word, separated by spaces.
fn words(list: Vec<Value>) -> Value {
    let words: Vec<String> = list.iter().map(|item| quote(&item.to_string())).collect();
    Value::from_safe_string(words.join(" "))
}

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
    env.set_auto_escape_callback(auto_escape);
    env.set_formatter(format);
    env.add_filter("quote", quote_filter);
    env.add_filter("words", words);
    env.add_filter("sql_literal", sql_literal);
    env.add_filter("env_value", env_value);
    env.add_filter("expand", expand);
    env.add_filter("sql_name", sql_name);
    env.add_filter("scram_verifier", scram_verifier);
    env.add_filter("cidr", cidr);
    env.add_filter("url_part", url_part);
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

/// Why a role's task cannot be rendered for a host.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
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
        path: std::path::PathBuf,
        source: std::io::Error,
    },
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
    /// The run's stamp, `run_stamp` in the templates.
    pub stamp: &'a str,
    /// The scenario the run is of, `scenario` in the templates.
    pub scenario: &'a str,
    /// Every role of the cluster with the hosts that carry it: `roles.app` lists each app host's
    /// `host`, `address` and settings, e.g. for a proxy's upstream.
    pub roles: &'a toml::Table,
    /// The hosts a rolling run takes out of the proxies now, `draining` in the templates.
    pub draining: &'a [String],
}

impl Renderer<'_> {
    /// The command of `action`; none for a file whose `to` renders empty (a file only some
    /// settings want, e.g. nginx's own configuration with `services = "user"`).
    pub fn render(&self, action: &Action) -> Result<Option<Command>, RenderError> {
        let role = self.role.to_owned();
        Ok(Some(match action {
            Action::Command(script) => Command::Run {
                role,
                script: self.text(script, Quoting::Shell)?,
                continue_on_error: false,
                timeout: None,
            },
            Action::Run(run) => Command::Run {
                role,
                script: self.text(&run.run, Quoting::Shell)?,
                continue_on_error: run.continue_on_error,
                // The definition checks refused any timeout that does not parse.
                timeout: run.timeout().ok().flatten(),
            },
            Action::File(file) => return self.file(file),
        }))
    }

    fn file(&self, file: &FileAction) -> Result<Option<Command>, RenderError> {
        let to = self.text(&file.to, Quoting::Plain)?;
        if to.trim().is_empty() {
            return Ok(None);
        }
        let (from, template) = match (&file.upload, &file.write) {
            (Some(upload), _) => {
                let folder = self.definition.path.parent().unwrap_or(".".as_ref());
                // Checked again: a link may have changed since the definition was read.
                let source = upload_source(folder, upload).map_err(RenderError::Outside)?;
                let text =
                    std::fs::read_to_string(&source).map_err(|error| RenderError::Upload {
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
        let quoted_to = self.text(&file.to, Quoting::DoubleQuoted)?;
        let sudo = self.text(&file.sudo, Quoting::Plain)?;
        let script = file_script(
            &quoted_to,
            &sudo,
            &self.text(&file.owner, Quoting::Plain)?,
            &self.text(&file.mode, Quoting::Plain)?,
        )
        .map_err(|detail| self.failed(detail))?;
        Ok(Some(Command::Upload {
            role: self.role.to_owned(),
            from,
            content: self.text(&template, Quoting::Plain)?,
            upload_script: script,
            read_script: format!(
                "f=\"{quoted_to}\"; if {sudo} test -f \"$f\"; then {sudo} cat \"$f\"; else echo {NO_FILE}; fi"
            ),
            secret: file.secret,
            to,
        }))
    }

    /// `template` rendered for this host, its values quoted as `quoting` says.
    pub fn text(&self, template: &str, quoting: Quoting) -> Result<String, RenderError> {
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
        context.insert("draining".to_owned(), self.draining.to_vec().into());
        for (key, value) in [
            ("host", Some(self.host.name.as_str())),
            ("machine", Some(self.host.machine.as_str())),
            ("role", Some(self.role)),
            ("cluster", Some(self.definition.name())),
            ("domain", cluster.domain.as_deref()),
            ("run_stamp", Some(self.stamp)),
            ("scenario", Some(self.scenario)),
            ("address", Some(self.host.peer_address())),
        ] {
            if let Some(value) = value {
                context.insert(key.to_owned(), toml::Value::String(value.to_owned()));
            }
        }
        ENVIRONMENT
            .render_named_str(
                quoting.template_name(),
                &format!("{IMPORT}{template}"),
                minijinja::Value::from(minijinja::value::Serde(&context)),
            )
            .map_err(|error| self.failed(explained(&error)))
    }

    fn failed(&self, detail: String) -> RenderError {
        RenderError::Render {
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
/// it differs, saying which: `wrote: <path>` or `unchanged: <path>`. `quoted_to` goes between
/// double quotes (its values rendered for them), so `$HOME` in it expands but spaces do not
/// split it.
fn file_script(quoted_to: &str, sudo: &str, owner: &str, mode: &str) -> Result<String, String> {
    if mode.is_empty() || mode.len() > 4 || !mode.chars().all(|c| ('0'..='7').contains(&c)) {
        return Err(format!("mode {mode:?} must be octal, e.g. \"640\""));
    }
    let owner = match owner {
        "" => String::new(),
        owner => format!("-o {} ", quote(owner)),
    };
    Ok(format!(
        "f=\"{quoted_to}\"; t=$(mktemp) && cat > \"$t\" || exit 1\n\
         if {sudo} cmp -s \"$t\" \"$f\"; then rm -f \"$t\"; echo \"unchanged: $f\"; exit 0; fi\n\
         {sudo} mkdir -p \"$(dirname \"$f\")\" && {sudo} install {owner}-m {mode} \"$t\" \"$f\"; s=$?\n\
         rm -f \"$t\"; [ $s = 0 ] && echo \"wrote: $f\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_mode_must_be_octal() {
        assert!(file_script("/etc/x", "", "", "640").is_ok());
        for bad in ["", "9", "0644x", "12345", "u+x"] {
            assert!(file_script("/etc/x", "", "", bad).is_err(), "{bad}");
        }
    }

    fn shell(template: &str) -> String {
        ENVIRONMENT
            .render_named_str("t.sh", template, minijinja::context! { v => "a b", n => 3 })
            .expect("renders")
    }

    #[test]
    fn values_are_words_and_a_command_built_of_quoted_values_is_pasted_whole() {
        assert_eq!(shell("{{ v }} {{ n }} {{ v|safe }}"), "'a b' 3 a b");
        assert_eq!(
            shell(
                "{% macro m(start) %}{{ start|safe }}{% endmacro %}{{ m(start=\"run \" ~ v|quote) }}"
            ),
            "run 'a b'"
        );
        assert_eq!(shell("{{ [v, \"c\"]|words }}"), "'a b' 'c'");
    }

    #[test]
    fn addresses_become_networks_and_url_parts_keep_only_plain_characters() {
        assert_eq!(cidr("10.0.0.5").expect("v4"), "10.0.0.5/32");
        assert_eq!(cidr("::1").expect("v6"), "::1/128");
        assert!(cidr("db.example.com").is_err());
        assert_eq!(url_part("p@ss:w/rd %é~"), "p%40ss%3Aw%2Frd%20%25%C3%A9~");
    }
}
