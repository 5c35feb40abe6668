//! Scheduled runs: `knit serve` starts each occurrence of a scenario's `schedule` as the account
//! `schedule`, exactly once across the servers sharing a database (the one whose claim of the
//! occurrence the store accepts starts it). Admins pause and resume a schedule.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use knit_shared::{RunQuery, ScheduleSummary, StartRun};
use tokio_util::sync::CancellationToken;

use super::{Runs, Standing};
use crate::clusters::{self, Library, schedule::Schedule};
use crate::store::{Actor, Store, StoreError, time_text};

/// The account scheduled runs are started as (a cluster naming operators must name it too).
pub const ACCOUNT: &str = knit_shared::validate::SCHEDULE_ACCOUNT;
/// How often the definitions are read and the clock compared with them.
const TICK: Duration = Duration::from_secs(1);

/// Why a schedule could not be paused or resumed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error("cluster {0} has no scenario {1} with a schedule")]
    Unknown(String, String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts the occurrences of every schedule of the runs' clusters until `stopping`.
pub async fn keep(runs: Arc<Runs>, stopping: CancellationToken) {
    let dirs = runs.fleet().dirs().to_vec();
    let began = Utc::now();
    let server = format!("{} pid {}", crate::store::hostname(), std::process::id());
    // The latest occurrence handled, per cluster and scenario.
    let mut handled: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
    // The schedules, parsed again only when the definition files change.
    let (mut files, mut schedules) = (None, Vec::new());
    loop {
        let now_files = Some(definition_files(&dirs).await);
        if now_files != files {
            schedules = scheduled(&dirs).await;
            files = now_files;
        }
        for (cluster, scenario, schedule) in &schedules {
            let key = (cluster.clone(), scenario.clone());
            let now = Utc::now();
            let Some(due) = schedule.previous(now) else {
                continue;
            };
            let since = match handled.get(&key) {
                Some(since) => *since,
                // At first sight, what passed before the start is missed, unless it catches up
                // (then the latest occurrence no server claimed runs once).
                None if schedule.catch_up => last_claimed(runs.store(), &key).await,
                None => began,
            };
            if due <= since {
                continue;
            }
            handled.insert(key.clone(), due);
            if let Err(error) = occur(&runs, &key, due, &server).await {
                tracing::error!(cluster = key.0, scenario = key.1, %error, "a scheduled run did not start");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = stopping.cancelled() => return,
        }
    }
}

/// Claims occurrence `due` and, if this server's claim won and the schedule is not paused,
/// starts the run.
async fn occur(
    runs: &Arc<Runs>,
    (cluster, scenario): &(String, String),
    due: DateTime<Utc>,
    server: &str,
) -> anyhow::Result<()> {
    let store = runs.store();
    if let Some(by) = store.schedule_paused_by(cluster, scenario).await? {
        tracing::info!(
            cluster,
            scenario,
            by,
            "a paused schedule's occurrence passes"
        );
        return Ok(());
    }
    let occurrence = time_text(due.timestamp_millis());
    if !store
        .claim_occurrence(cluster, scenario, &occurrence, server)
        .await?
    {
        return Ok(());
    }
    if let Some(freeze) = store.freeze_of(cluster).await? {
        let outcome = format!(
            "skipped {occurrence}: the cluster is frozen by {} since {}: {}",
            freeze.by, freeze.since, freeze.message
        );
        tracing::info!(
            cluster,
            scenario,
            occurrence,
            "a scheduled run is skipped: the cluster is frozen"
        );
        store
            .record(&Actor::named(ACCOUNT).did(
                "schedule.skip",
                format!("{cluster}/{scenario}"),
                outcome,
            ))
            .await?;
        return Ok(());
    }
    let request = StartRun {
        cluster: cluster.clone(),
        scenario: scenario.clone(),
        // The definition asked for it: a cluster that wants its name typed has it.
        confirm: Some(cluster.clone()),
        // Behind a run that holds the cluster (a deploy, the previous occurrence), it waits in
        // line rather than being lost.
        wait: true,
        ..StartRun::default()
    };
    let run = runs
        .start_request(&request, &Actor::named(ACCOUNT), Standing::Deployer)
        .await?;
    tracing::info!(
        cluster,
        scenario,
        occurrence,
        run = run.id,
        "started a scheduled run"
    );
    Ok(())
}

async fn last_claimed(store: &Store, (cluster, scenario): &(String, String)) -> DateTime<Utc> {
    match store.last_claimed(cluster, scenario).await {
        Ok(Some(text)) => DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
        Ok(None) => DateTime::<Utc>::MIN_UTC,
        // Without the store nothing can be claimed anyway: treat everything as seen.
        Err(_) => Utc::now(),
    }
}

/// Every scenario with a valid schedule in `dirs`: cluster, scenario, schedule.
async fn scheduled(dirs: &[PathBuf]) -> Vec<(String, String, Schedule)> {
    let dirs = dirs.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        for dir in dirs.iter().filter(|dir| dir.exists()) {
            for definition in clusters::load_dir(dir, Library::builtin()).definitions {
                for (name, scenario) in &definition.file.scenarios {
                    if let Some(Ok(schedule)) = Schedule::of(scenario.get_ref()) {
                        found.push((definition.name().to_owned(), name.clone(), schedule));
                    }
                }
            }
        }
        found
    })
    .await
    .unwrap_or_default()
}

/// The definition files of `dirs` as they are now (path, last change, size), so that the
/// poller parses them only when one changed, was added or went.
async fn definition_files(dirs: &[PathBuf]) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    let dirs = dirs.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut files: Vec<_> = dirs
            .iter()
            .filter_map(|dir| std::fs::read_dir(dir).ok())
            .flatten()
            .filter_map(Result::ok)
            .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "toml"))
            .filter_map(|entry| {
                let meta = entry.metadata().ok()?;
                Some((entry.path(), meta.modified().ok(), meta.len()))
            })
            .collect();
        files.sort();
        files
    })
    .await
    .unwrap_or_default()
}

/// Adds to `schedule` who paused it and its latest run.
pub async fn fill_in(
    store: &Store,
    cluster: &str,
    scenario: &str,
    schedule: &mut ScheduleSummary,
) -> Result<(), StoreError> {
    schedule.paused_by = store.schedule_paused_by(cluster, scenario).await?;
    let latest = RunQuery {
        cluster: Some(cluster.to_owned()),
        scenario: Some(scenario.to_owned()),
        actor: Some(ACCOUNT.to_owned()),
        ..RunQuery::default()
    };
    schedule.last_run = store.runs(&latest, 1).await?.into_iter().next();
    Ok(())
}

/// Pauses (`paused`) or resumes the schedule of `cluster`'s `scenario` on behalf of `actor`,
/// recorded in the audit log.
pub async fn set_paused(
    runs: &Runs,
    cluster: &str,
    scenario: &str,
    actor: &Actor,
    paused: bool,
) -> Result<(), ScheduleError> {
    let store = runs.store();
    let exists = scheduled(runs.fleet().dirs())
        .await
        .iter()
        .any(|(found, name, _)| found == cluster && name == scenario);
    if !exists {
        return Err(ScheduleError::Unknown(
            cluster.to_owned(),
            scenario.to_owned(),
        ));
    }
    store
        .pause_schedule(cluster, scenario, paused.then_some(actor.name.as_str()))
        .await?;
    let (action, outcome) = if paused {
        ("schedule.pause", "paused")
    } else {
        ("schedule.resume", "resumed")
    };
    store
        .record(&actor.did(action, format!("{cluster}/{scenario}"), outcome.to_owned()))
        .await?;
    Ok(())
}
