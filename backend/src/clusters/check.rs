//! The checks a parsed definition must pass before anything runs: every name it uses exists,
//! every value is well formed. Each problem comes with the byte offset it stands at. Over 400
//! lines: one short check per rule of the format, in the order of the format's sections.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use knit_shared::{ScenarioParam, validate};

use super::Library;
use super::format::{Action, File};
use super::secret_sources::source_problem;

type Problem = (usize, String);

/// The problems of `file`, read from folder `folder`.
pub fn check(file: &File, library: &Library, folder: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(connect) = &file.cluster.connect
        && !["public_ip", "private_ip", "public_dns"].contains(&connect.get_ref().as_str())
    {
        problems.push((
            connect.span().start,
            format!(
                "connect must be public_ip, private_ip or public_dns, not {:?}",
                connect.get_ref()
            ),
        ));
    }
    if let Some(keys) = &file.cluster.host_keys
        && !["first_seen", "console_output"].contains(&keys.get_ref().as_str())
    {
        problems.push((
            keys.span().start,
            format!(
                "host_keys must be first_seen or console_output, not {:?}",
                keys.get_ref()
            ),
        ));
    }
    if let Some(kex) = &file.cluster.ssh_kex {
        let names = kex.get_ref();
        let well_formed = |name: &str| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-@.".contains(c))
        };
        if !["fast", "post-quantum"].contains(&names.as_str()) && !names.split(',').all(well_formed)
        {
            problems.push((
                kex.span().start,
                format!(
                    "ssh_kex must be fast, post-quantum, or key exchange names separated by commas (see ssh -Q kex), not {names:?}"
                ),
            ));
        }
    }
    if let Some(idle) = &file.cluster.ssh_idle
        && let Err(message) = super::format::ssh_idle(idle.get_ref())
    {
        problems.push((idle.span().start, message));
    }
    if let Some(timeout) = &file.cluster.approval_timeout
        && let Err(message) = super::format::duration("approval_timeout", timeout.get_ref())
    {
        problems.push((timeout.span().start, message));
    }
    for scenario in &file.cluster.approval {
        if file.cluster.approvers.is_empty() {
            problems.push((
                scenario.span().start,
                format!(
                    "{} needs approval, but the cluster names no approvers: add approvers = [\"...\"]",
                    scenario.get_ref()
                ),
            ));
        }
    }
    if let Some(parallel) = &file.cluster.parallel
        && *parallel.get_ref() == 0
    {
        problems.push((
            parallel.span().start,
            "parallel must be at least 1".to_owned(),
        ));
    }
    machines(file, library, &mut problems);
    kinds(file, library, &mut problems);
    uploads(file, folder, &mut problems);
    firewall(file, &mut problems);
    scenarios(file, library, &mut problems);
    receivers(file, &mut problems);
    problems.sort_by_key(|(offset, _)| *offset);
    problems
}

fn machines(file: &File, library: &Library, problems: &mut Vec<Problem>) {
    for (name, machine) in &file.machines {
        let at = machine.span().start;
        let body = machine.get_ref();
        let launched = body.ami.is_some() || body.instance_type.is_some();
        match (&body.hosts, launched) {
            (Some(_), true) => problems.push((at, format!("machine {name} has both hosts and ami/instance_type: it is either launched or existing"))),
            (None, false) => problems.push((at, format!("machine {name} needs either hosts, or ami and instance_type"))),
            (None, true) if body.ami.is_none() || body.instance_type.is_none() => {
                problems.push((at, format!("machine {name} needs both ami and instance_type")));
            }
            _ => {}
        }
        for host in body.hosts.iter().flatten() {
            if let Err(message) = static_host(host.get_ref()) {
                problems.push((host.span().start, message));
            }
        }
        let host_count = body
            .hosts
            .as_ref()
            .map_or(body.count.unwrap_or(1) as usize, Vec::len);
        for (host, settings) in &body.host_settings {
            secret_sources(settings.get_ref(), settings.span().start, problems);
            let number = host
                .strip_prefix(name.as_str())
                .and_then(|rest| rest.strip_prefix('-'))
                .and_then(|n| n.parse::<usize>().ok());
            if !number.is_some_and(|n| (1..=host_count).contains(&n)) {
                problems.push((
                    settings.span().start,
                    format!(
                        "host_settings names host {host:?}, which machine {name} does not have: its hosts are {name}-1 to {name}-{host_count}"
                    ),
                ));
            }
        }
        if body.roles.is_empty() {
            problems.push((
                at,
                format!("machine {name} carries no roles: give it at least one"),
            ));
        }
        for (role, spec) in &body.roles {
            secret_sources(&spec.get_ref().settings, spec.span().start, problems);
            let kind = &spec.get_ref().kind;
            if let Some(resolved) = library.resolve(&file.kinds, kind.get_ref()) {
                for setting in &resolved.required {
                    let given = spec
                        .get_ref()
                        .settings
                        .get(setting)
                        .or(resolved.settings.get(setting));
                    if given.is_none_or(|value| value.as_str() == Some("")) {
                        problems.push((
                            spec.span().start,
                            format!(
                                "role {role} of machine {name} needs the setting {setting} (its kind {} requires it)",
                                kind.get_ref()
                            ),
                        ));
                    }
                }
            }
            if !file.kinds.contains_key(kind.get_ref()) && !library.contains(kind.get_ref()) {
                problems.push((
                    kind.span().start,
                    format!(
                        "role {role} has unknown kind {:?}; known kinds: {}",
                        kind.get_ref(),
                        known_kinds(file, library)
                    ),
                ));
            }
        }
    }
}

fn kinds(file: &File, library: &Library, problems: &mut Vec<Problem>) {
    let actions = file
        .kinds
        .values()
        .flat_map(|kind| kind.get_ref().tasks.values().flatten());
    for action in actions {
        if let Action::Run(run) = action.get_ref()
            && let Err(message) = run.timeout()
        {
            problems.push((action.span().start, message));
        }
    }
    for (name, kind) in &file.kinds {
        secret_sources(&kind.get_ref().settings, kind.span().start, problems);
        let Some(parent) = &kind.get_ref().extends else {
            continue;
        };
        if !file.kinds.contains_key(parent.get_ref()) && !library.contains(parent.get_ref()) {
            problems.push((
                parent.span().start,
                format!("kind {name} extends unknown kind {:?}", parent.get_ref()),
            ));
        } else if library.tasks(&file.kinds, name).is_none() {
            problems.push((
                parent.span().start,
                format!("kind {name} extends itself through a circle of kinds"),
            ));
        }
    }
}

/// Secret settings given by their source (`password_env`, `password_file`), in `settings` and
/// its tables, which stand at `at`.
fn secret_sources(settings: &toml::Table, at: usize, problems: &mut Vec<Problem>) {
    for (name, value) in settings {
        if let Some(problem) = source_problem(settings, name, value) {
            problems.push((at, problem));
        } else if let toml::Value::Table(table) = value {
            secret_sources(table, at, problems);
        }
    }
}

fn uploads(file: &File, folder: &Path, problems: &mut Vec<Problem>) {
    let actions = file
        .kinds
        .values()
        .flat_map(|kind| kind.get_ref().tasks.values().flatten());
    for action in actions {
        let Action::File(file) = action.get_ref() else {
            continue;
        };
        let problem = match (&file.upload, &file.write) {
            (Some(upload), None) => upload_source(folder, upload).err(),
            (None, Some(_)) => None,
            _ => Some(format!(
                "a file for {:?} needs either upload (a template file) or write (its text), not both",
                file.to
            )),
        };
        if let Some(message) = problem {
            problems.push((action.span().start, message));
        }
    }
}

/// The file that `upload` names, which must lie in `folder` (the definition's) or below it,
/// also once symbolic links are followed: a definition sends files of its own repository,
/// never others of the machine knit runs on (its credentials, its keys).
pub fn upload_source(folder: &Path, upload: &str) -> Result<PathBuf, String> {
    let outside = || {
        format!(
            "upload {upload:?} is outside the definition's folder {}: uploads come from that \
             folder or below it",
            folder.display()
        )
    };
    let relative = Path::new(upload);
    let climbs = relative
        .components()
        .any(|part| !matches!(part, Component::Normal(_) | Component::CurDir));
    if climbs {
        return Err(outside());
    }
    let source = folder.join(relative);
    // A file that is not there yet is refused when it is read; one that is must not lead out.
    if let (Ok(inside), Ok(real)) = (folder.canonicalize(), source.canonicalize())
        && !real.starts_with(inside)
    {
        return Err(outside());
    }
    Ok(source)
}

/// Names templates already give a meaning to.
const RESERVED: [&str; 6] = ["host", "machine", "role", "cluster", "domain", "params"];

/// Settings the built-in templates paste into commands as code (`|safe`), which a parameter
/// must not replace: a parameter's value is only ever a quoted word.
const COMMAND_SETTINGS: [&str; 6] = [
    "sudo",
    "start",
    "build",
    "migrate_command",
    "static_command",
    "command",
];

/// What is wrong with a scenario's parameter, if anything.
fn param_problem(name: &str, param: &ScenarioParam) -> Result<(), String> {
    let well_formed = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Err("a name is lowercase letters, digits and _, starting with a letter".to_owned());
    }
    if RESERVED.contains(&name) {
        return Err(format!("{name} is a name templates already have"));
    }
    if COMMAND_SETTINGS.contains(&name) {
        return Err(format!(
            "{name} is a setting the built-in kinds run as a command, and a parameter of its name \
             would replace it: name it otherwise"
        ));
    }
    if param.pattern.is_some() && !param.choices.is_empty() {
        return Err("give pattern or choices, not both".to_owned());
    }
    if let Some(pattern) = &param.pattern {
        knit_shared::params::compile(pattern).map_err(|invalid| invalid.message)?;
    }
    if let Some(default) = &param.default {
        param
            .check(default)
            .map_err(|invalid| format!("its default: {}", invalid.message))?;
    }
    Ok(())
}

fn firewall(file: &File, problems: &mut Vec<Problem>) {
    for rule in file
        .firewall
        .values()
        .flat_map(|group| &group.get_ref().rules)
    {
        let at = rule.span().start;
        let body = rule.get_ref();
        if !["tcp", "udp", "icmp", "all"].contains(&body.proto.as_str()) {
            problems.push((
                at,
                format!("proto must be tcp, udp, icmp or all, not {:?}", body.proto),
            ));
        }
        if let Err(invalid) = validate::port_range(&body.ports) {
            problems.push((at, invalid.message));
        }
        if !file.firewall.contains_key(&body.from)
            && let Err(invalid) = validate::cidr(&body.from)
        {
            problems.push((
                at,
                format!("{}, nor the name of a firewall group", invalid.message),
            ));
        }
    }
}

fn scenarios(file: &File, library: &Library, problems: &mut Vec<Problem>) {
    let roles: Vec<(&str, &str)> = file
        .machines
        .values()
        .flat_map(|machine| machine.get_ref().roles.iter())
        .map(|(role, spec)| (role.as_str(), spec.get_ref().kind.get_ref().as_str()))
        .collect();
    let tasks_of = |kind: &str| library.tasks(&file.kinds, kind).unwrap_or_default();
    for (name, scenario) in &file.scenarios {
        let body = scenario.get_ref();
        for (param, spec) in &body.params {
            if let Err(message) =
                param_problem(param, &super::params::declared(param, spec.get_ref()))
            {
                problems.push((
                    spec.span().start,
                    format!("parameter {param} of {name}: {message}"),
                ));
            }
        }
        if body.steps.is_empty() {
            problems.push((
                scenario.span().start,
                format!("scenario {name} has no steps"),
            ));
        }
        if let Some(pause) = &body.batch_pause
            && let Err(message) = super::format::duration("batch_pause", pause.get_ref())
        {
            problems.push((pause.span().start, message));
        }
        match super::schedule::Schedule::of(body) {
            Some(Err((at, message))) => problems.push((at, format!("scenario {name}: {message}"))),
            Some(Ok(_)) => {
                // Nobody is there to give a value when the server starts it.
                for (param, spec) in &body.params {
                    if spec.get_ref().default.is_none() {
                        problems.push((
                            spec.span().start,
                            format!(
                                "scenario {name} runs on a schedule: parameter {param} needs a default"
                            ),
                        ));
                    }
                }
            }
            None => {}
        }
        if let Some(share) = &body.max_fail_percentage
            && let Err(message) = knit_shared::rollout::check_max_fail(*share.get_ref())
        {
            problems.push((share.span().start, message));
        }
        for step in body.steps.iter().chain(&body.finally) {
            let at = step.span().start;
            let name = step.get_ref().name();
            let Some((role, task)) = name.split_once('.') else {
                problems.push((at, format!("step {name:?} must be role.task or ALL.task")));
                continue;
            };
            if role == "ALL" {
                if !roles.iter().any(|(_, kind)| tasks_of(kind).contains(task)) {
                    problems.push((
                        at,
                        format!("step {name}: no role of this cluster has a task {task}"),
                    ));
                }
                continue;
            }
            let kinds: BTreeSet<&str> = roles
                .iter()
                .filter(|(r, _)| *r == role)
                .map(|(_, k)| *k)
                .collect();
            if kinds.is_empty() {
                let names: BTreeSet<&str> = roles.iter().map(|(r, _)| *r).collect();
                problems.push((
                    at,
                    format!(
                        "step {name}: no machine carries a role {role}; roles: {}",
                        names.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            } else if let Some(kind) = kinds.iter().find(|kind| !tasks_of(kind).contains(task)) {
                problems.push((
                    at,
                    format!("step {name}: role {role} (kind {kind}) has no task {task}"),
                ));
            }
        }
    }
}

/// `user@host:port`, `user@host` or `host`, with a port in range.
/// `[[cluster.notify]]`: a URL (or the variable that holds one), known events and format.
fn receivers(file: &File, problems: &mut Vec<Problem>) {
    for receiver in &file.cluster.notify {
        let at = receiver.span().start;
        let receiver = receiver.get_ref();
        match (&receiver.url, &receiver.url_env) {
            (Some(url), None) => {
                if let Err(message) = knit_shared::webhooks::check_url(url.get_ref()) {
                    problems.push((url.span().start, message));
                }
            }
            (None, Some(variable)) if !variable.get_ref().starts_with("KNIT_") => problems.push((
                variable.span().start,
                format!(
                    "url_env names a variable of knit's own, KNIT_..., not {:?}: knit's \
                     environment holds its secrets too",
                    variable.get_ref()
                ),
            )),
            (None, Some(_)) => {}
            _ => problems.push((
                at,
                "a notify entry needs url = \"https://...\" or url_env = \"VARIABLE\" (one of them)"
                    .to_owned(),
            )),
        }
        for event in &receiver.on {
            if knit_shared::webhooks::Event::named(event.get_ref()).is_none() {
                problems.push((
                    event.span().start,
                    format!(
                        "on lists start, success, failure or approval, not {:?}",
                        event.get_ref()
                    ),
                ));
            }
        }
        if let Some(format) = &receiver.format
            && !["json", "slack"].contains(&format.get_ref().as_str())
        {
            problems.push((
                format.span().start,
                format!("format must be json or slack, not {:?}", format.get_ref()),
            ));
        }
    }
}

fn static_host(address: &str) -> Result<(), String> {
    let host_part = address.rsplit_once('@').map_or(address, |(_, rest)| rest);
    let host = match host_part.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            port.parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| format!("host {address:?} has no valid port after ':'"))?;
            host
        }
        _ => host_part,
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!(
            "host {address:?} is not user@host:port, user@host or host"
        ));
    }
    Ok(())
}

fn known_kinds(file: &File, library: &Library) -> String {
    let names: BTreeSet<&str> = file
        .kinds
        .keys()
        .map(String::as_str)
        .chain(library.names())
        .collect();
    names.into_iter().collect::<Vec<_>>().join(", ")
}
