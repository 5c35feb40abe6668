//! What a run would change, asked before it starts: on each host, what its roles' `diff` tasks
//! say (the app's commits and migrations), and each file the run would write against the file
//! on the host now, read over SSH. Asking changes nothing on a host: only the `diff` tasks and
//! reads of files run. Secrets are masked; a secret file's content is never shown.

use std::collections::BTreeMap;
use std::time::Duration;

use futures_util::StreamExt;
use knit_shared::{FileChange, FileDiff, HostDiff, RunDiff};
use tokio_util::sync::CancellationToken;

use super::connections::Hosts;
use super::operators::{Attempt, OperatorCheck, require_operator};
use super::start::identity_for;
use super::{Mask, RunError, Runs, StartError};
use crate::clusters::{Command, Job, Library, NO_FILE, Plan, run_stamp};
use crate::ssh::exec::{self, Exit, Output, Ran, Remote};
use crate::ssh::{Identity, Pool};
use crate::store::Actor;

/// How long one read of a host may take.
const READ_FOR: Duration = Duration::from_secs(30);

impl Runs {
    /// What `request` would change on each of its hosts, were it started now; `asker`, when a
    /// person of the console or the API asks, must be one of the cluster's operators.
    pub async fn diff_request(
        &self,
        request: &knit_shared::StartRun,
        asker: Option<&Actor>,
    ) -> Result<RunDiff, StartError> {
        let definition = self.fleet.definition(&request.cluster).await?;
        let definition = self.fleet.with_secrets(definition).await?;
        let hosts = self.fleet.hosts(&definition).await?;
        let stamp = run_stamp();
        let plan = definition.plan(Library::builtin(), &hosts, request, &stamp)?;
        let asks = definition.diff_jobs(Library::builtin(), &hosts, request, &stamp)?;
        if let Some(actor) = asker {
            let attempt = Attempt {
                what: "ask what a run would change on",
                action: "run.diff",
                target: format!("{}/{}", request.cluster, request.scenario),
            };
            match require_operator(&self.store, &definition, actor, attempt).await {
                Ok(()) => {}
                Err(OperatorCheck::Refused(refused)) => return Err(refused.into()),
                Err(OperatorCheck::Store(error)) => return Err(RunError::Store(error).into()),
            }
        }
        let mask = Mask::with_declared(
            definition.secret_values(Library::builtin()),
            plan.secret_params(),
        );
        let identity = identity_for(&definition, &self.known_hosts);
        Ok(diff(&plan, &asks, &identity, &self.pool, &mask).await)
    }
}

/// What `plan` would change on each of its hosts, with `asks` the jobs of its roles' `diff`
/// tasks.
pub async fn diff(
    plan: &Plan,
    asks: &[Job],
    identity: &Identity,
    pool: &Pool,
    mask: &Mask,
) -> RunDiff {
    let hosts = Hosts::new(plan, identity, pool);
    let asked = futures_util::stream::iter(0..plan.hosts.len())
        .map(|index| host_diff(plan, asks, index, &hosts, mask))
        .buffered(plan.parallel.max(1))
        .collect::<Vec<_>>()
        .await;
    hosts.shells.close().await;
    RunDiff {
        cluster: plan.cluster.clone(),
        scenario: plan.scenario.clone(),
        hosts: asked.into_iter().flatten().collect(),
    }
}

/// A file a run writes, as it would be once the run has written it.
struct Written<'a> {
    role: &'a str,
    content: &'a str,
    read_script: &'a str,
    secret: bool,
}

/// The difference on host `index`; none for a host the run does nothing on.
async fn host_diff(
    plan: &Plan,
    asks: &[Job],
    index: usize,
    hosts: &Hosts<'_>,
    mask: &Mask,
) -> Option<HostDiff> {
    let written = files_written(plan, index);
    let asks: Vec<(&str, &str)> = asks
        .iter()
        .filter(|job| job.host == index)
        .flat_map(|job| &job.commands)
        .filter_map(|command| match command {
            Command::Run { role, script, .. } => Some((role.as_str(), script.as_str())),
            Command::Upload { .. } => None,
        })
        .collect();
    if written.is_empty() && asks.is_empty() {
        return None;
    }
    let mut diff = HostDiff {
        host: plan.hosts[index].name.clone(),
        notes: Vec::new(),
        files: Vec::new(),
        error: None,
    };
    let connection = match hosts.connection(index).await {
        Ok(connection) => connection,
        Err(reason) => {
            diff.error = Some(reason);
            return Some(diff);
        }
    };
    let master = connection.master();
    for (role, script) in asks {
        match read(master, script).await {
            Ok(lines) => diff.notes.extend(
                lines
                    .into_iter()
                    .map(|line| mask.apply(format!("[{role}] {line}"))),
            ),
            Err(reason) => diff
                .notes
                .push(mask.apply(format!("[{role}] not known: {reason}"))),
        }
    }
    for (path, file) in written {
        let now = match read(master, file.read_script).await {
            Ok(lines) => lines,
            Err(reason) => {
                diff.error = Some(mask.apply(format!("{path} cannot be read: {reason}")));
                break;
            }
        };
        diff.files.push(compare(&path, &file, &now, mask));
    }
    Some(diff)
}

/// Each file the plan writes on host `index`, by path, as the last write of the run leaves it.
/// A rolling run's drains are left out: they put the file back as they found it.
fn files_written(plan: &Plan, index: usize) -> BTreeMap<String, Written<'_>> {
    let mut written = BTreeMap::new();
    let commands = plan
        .steps
        .iter()
        .filter(|step| step.drain.is_none())
        .flat_map(|step| &step.jobs)
        .filter(|job| job.host == index)
        .flat_map(|job| &job.commands);
    for command in commands {
        if let Command::Upload {
            role,
            content,
            to,
            read_script,
            secret,
            ..
        } = command
        {
            let file = Written {
                role,
                content,
                read_script,
                secret: *secret,
            };
            written.insert(to.clone(), file);
        }
    }
    written
}

/// `file` as the run would write it at `path`, against the host's lines `now`.
fn compare(path: &str, file: &Written, now: &[String], mask: &Mask) -> FileDiff {
    let absent = now.len() == 1 && now[0] == NO_FILE;
    let old = if absent {
        String::new()
    } else {
        now.iter().map(|line| format!("{line}\n")).collect()
    };
    let new: String = file
        .content
        .lines()
        .map(|line| format!("{line}\n"))
        .collect();
    let change = match () {
        () if absent => FileChange::New,
        () if old == new => FileChange::Unchanged,
        () => FileChange::Changed,
    };
    let diff = if file.secret || change == FileChange::Unchanged {
        String::new()
    } else {
        let (old, new) = (mask.apply(old), mask.apply(new));
        similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("{path} (on the host)"),
                &format!("{path} (the run's)"),
            )
            .to_string()
    };
    FileDiff {
        role: file.role.to_owned(),
        path: path.to_owned(),
        change,
        diff,
        secret: file.secret,
    }
}

/// What `script` prints, each line (standard error too); `Err` when it fails.
async fn read(
    master: &std::sync::Arc<openssh::Session>,
    script: &str,
) -> Result<Vec<String>, String> {
    let mut lines = Vec::new();
    let remote = Remote {
        script,
        stdin: None,
        timeout: Some(READ_FOR),
    };
    let ran = exec::run(
        master,
        remote,
        Some(READ_FOR),
        &CancellationToken::new(),
        || {},
        |_: Output, line| lines.push(line),
    )
    .await;
    match ran {
        Ran::Ended(Exit::Code(0)) => Ok(lines),
        Ran::Ended(exit) => Err(format!("{exit:?}: {}", lines.join(" / "))),
        Ran::NotStarted(reason) | Ran::Unanswered(reason) => Err(reason),
    }
}
