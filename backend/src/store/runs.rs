//! Runs and their events. The unique index on running runs is the per-cluster lock, so two
//! processes sharing the database (the server and a CLI, maybe on other machines) cannot run
//! the same cluster at once. Over 400 lines because the lock, the line and the approvals are
//! one table's statements, and they are read together.

use std::collections::BTreeMap;

use knit_shared::{RunEvent, RunEventBody, RunPlan, RunQuery, RunStatus, RunSummary};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::{Store, StoreError, now_ms, now_text, time_text};

/// A query of run summaries: the columns `summary` reads, then `$rest`.
macro_rules! select_runs {
    ($rest:literal) => {
        concat!(
            "SELECT id, cluster, scenario, actor, status, started_at, finished_at, plan, params, \
             retry_of, decided_by, decision FROM runs ",
            $rest
        )
    };
}

/// How often a running run's process says it is alive.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(15);
/// A run of another machine that has not said it was alive for eight heartbeats was
/// interrupted. Generous, so clocks a little apart and a slow database never end a live run.
const SILENT_FOR_MS: i64 = 8 * HEARTBEAT.as_millis() as i64;

/// A run about to start.
#[derive(Debug, Clone)]
pub struct NewRun<'a> {
    pub cluster: &'a str,
    pub scenario: &'a str,
    pub actor: &'a str,
    pub plan: &'a RunPlan,
    /// Its parameters' values as they may be shown (secret ones hidden).
    pub params: &'a BTreeMap<String, String>,
    /// The run it retries.
    pub retry_of: Option<i64>,
}

impl Store {
    /// Records a new running run and returns its id, or the run that holds the cluster.
    pub async fn start_run(&self, run: &NewRun<'_>) -> Result<Result<i64, RunSummary>, StoreError> {
        // Runs waiting in line go first (unless their process is gone).
        self.mark_interrupted_runs().await?;
        let waiting = sqlx::query(select_runs!(
            "WHERE cluster = $1 AND status = 'queued' ORDER BY id LIMIT 1"
        ))
        .bind(run.cluster)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = waiting {
            return Ok(Err(summary(&row)?));
        }
        // The holder may end, or turn out to be interrupted, between the refused insert and
        // the look-up: then try again.
        for _ in 0..3 {
            let inserted = self.insert_run(run, RunStatus::Running).await;
            match inserted {
                Ok(id) => return Ok(Ok(id)),
                Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                    if !self.mark_interrupted_runs().await?.is_empty() {
                        continue;
                    }
                    let holder =
                        sqlx::query(select_runs!("WHERE cluster = $1 AND status = 'running'"))
                            .bind(run.cluster)
                            .fetch_optional(&self.pool)
                            .await?;
                    if let Some(row) = holder {
                        return Ok(Err(summary(&row)?));
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(StoreError::Contended(run.cluster.to_owned()))
    }

    /// Records a new run waiting in line for its cluster; its id.
    pub async fn enqueue_run(&self, run: &NewRun<'_>) -> Result<i64, StoreError> {
        self.insert_waiting(run, RunStatus::Queued).await
    }

    /// Records a new run waiting for an approver; its id.
    pub async fn await_approval(&self, run: &NewRun<'_>) -> Result<i64, StoreError> {
        self.insert_waiting(run, RunStatus::AwaitingApproval).await
    }

    /// An approver's answer to run `id`: approved, it waits in line; rejected, it ends. False
    /// when the run was not awaiting approval (any more).
    pub async fn decide(
        &self,
        id: i64,
        approved: bool,
        by: &str,
        comment: &str,
    ) -> Result<bool, StoreError> {
        let (status, finished) = match approved {
            true => (RunStatus::Queued, None),
            false => (RunStatus::Rejected, Some(now_text())),
        };
        let done = sqlx::query(
            "UPDATE runs SET status = $1, decided_by = $2, decision = $3, finished_at = $4 \
             WHERE id = $5 AND status = 'awaiting_approval'",
        )
        .bind(status.as_str())
        .bind(by)
        .bind(comment)
        .bind(finished)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Ends run `id` as expired if it still awaits approval; whether it did.
    pub async fn expire(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = 'expired', finished_at = $1 \
             WHERE id = $2 AND status = 'awaiting_approval'",
        )
        .bind(now_text())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_waiting(&self, run: &NewRun<'_>, status: RunStatus) -> Result<i64, StoreError> {
        Ok(self.insert_run(run, status).await?)
    }

    /// Inserts `run` with `status`; its id. A running one may meet the lock's index.
    async fn insert_run(&self, run: &NewRun<'_>, status: RunStatus) -> Result<i64, sqlx::Error> {
        let encode = |error| sqlx::Error::Encode(Box::new(error));
        let plan = serde_json::to_string(run.plan).map_err(encode)?;
        let params = serde_json::to_string(run.params).map_err(encode)?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO runs (cluster, scenario, actor, plan, pid, hostname, alive_at_ms, \
             started_at, params, retry_of, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(run.cluster)
        .bind(run.scenario)
        .bind(run.actor)
        .bind(&plan)
        .bind(i64::from(std::process::id()))
        .bind(hostname())
        .bind(now_ms())
        .bind(now_text())
        .bind(&params)
        .bind(run.retry_of)
        .bind(status.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Makes queued run `id` of `cluster` the running one, if it is first in line and the
    /// cluster is free and not frozen; whether it did. The lock's index decides between
    /// processes.
    pub async fn promote_run(&self, id: i64, cluster: &str) -> Result<bool, StoreError> {
        self.mark_interrupted_runs().await?;
        // A frozen cluster's line does not move: the freeze is read in the same statement, so
        // no run starts after the freeze is recorded.
        let promoted = sqlx::query(
            "UPDATE runs SET status = 'running', alive_at_ms = $3 WHERE id = $1 \
             AND status = 'queued' AND id = \
             (SELECT MIN(id) FROM runs WHERE cluster = $2 AND status = 'queued') \
             AND NOT EXISTS (SELECT 1 FROM cluster_freezes WHERE cluster = $2)",
        )
        .bind(id)
        .bind(cluster)
        .bind(now_ms())
        .execute(&self.pool)
        .await;
        match promoted {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Appends events of a run, atomically: in a few statements of many rows each (a statement
    /// is one trip to the database's thread or server, and a step's end on many hosts comes as
    /// many events at once), in a transaction when there are several.
    pub async fn append_run_events(
        &self,
        run_id: i64,
        events: &[RunEvent],
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        if events.len() <= ROWS_PER_INSERT {
            insert_events(run_id, events)?.execute(&self.pool).await?;
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        for rows in events.chunks(ROWS_PER_INSERT) {
            insert_events(run_id, rows)?
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Says that run `run_id`'s process is alive.
    pub async fn heartbeat(&self, run_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE runs SET alive_at_ms = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(run_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records how a run ended, which releases its cluster; a run already ended (taken for
    /// interrupted by another process) keeps that end.
    pub async fn finish_run(&self, run_id: i64, status: RunStatus) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET status = $1, finished_at = $2 WHERE id = $3 \
             AND status IN ('running', 'queued', 'awaiting_approval')",
        )
        .bind(status.as_str())
        .bind(now_text())
        .bind(run_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks as interrupted every running or queued run whose process has gone (the server or
    /// CLI stopped mid-run, or while it waited), ending its log with that; returns their ids.
    pub async fn mark_interrupted_runs(&self) -> Result<Vec<i64>, StoreError> {
        let running: Vec<(i64, i64, String, i64)> = sqlx::query_as(
            "SELECT id, pid, hostname, alive_at_ms FROM runs \
             WHERE status IN ('running', 'queued', 'awaiting_approval')",
        )
        .fetch_all(&self.pool)
        .await?;
        let here = hostname();
        let mut interrupted = Vec::new();
        for (id, pid, machine, alive_at_ms) in running {
            let gone = if machine.is_empty() || machine == here {
                !process_alive(pid)
            } else {
                now_ms() - alive_at_ms > SILENT_FOR_MS
            };
            if !gone {
                continue;
            }
            tracing::warn!(
                run = id,
                host = machine,
                pid,
                "run marked interrupted: its process stopped mid-run"
            );
            let (last,): (i64,) =
                sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM run_events WHERE run_id = $1")
                    .bind(id)
                    .fetch_one(&self.pool)
                    .await?;
            let end = RunEvent {
                seq: last + 1,
                at_ms: now_ms(),
                body: RunEventBody::RunFinished {
                    status: RunStatus::Interrupted,
                },
            };
            self.append_run_events(id, &[end]).await?;
            self.finish_run(id, RunStatus::Interrupted).await?;
            interrupted.push(id);
        }
        Ok(interrupted)
    }

    /// Runs matching `query`, newest first, at most `limit`.
    pub async fn runs(&self, query: &RunQuery, limit: u32) -> Result<Vec<RunSummary>, StoreError> {
        let rows = sqlx::query(select_runs!(
            "WHERE ($1 IS NULL OR cluster = $1) AND ($2 IS NULL OR scenario = $2) \
             AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR actor = $4) \
             AND id < $5 ORDER BY id DESC LIMIT $6"
        ))
        .bind(&query.cluster)
        .bind(&query.scenario)
        .bind(&query.status)
        .bind(&query.actor)
        .bind(query.before.unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut runs: Vec<RunSummary> = rows.iter().map(summary).collect::<Result<_, _>>()?;
        let ids: Vec<i64> = runs.iter().map(|run| run.id).collect();
        let mut releases = self.releases_of(&ids).await?;
        for run in &mut runs {
            run.releases = releases.remove(&run.id).unwrap_or_default();
        }
        Ok(runs)
    }

    /// The clusters whose line may move: a run waits in line, none holds the cluster, and it
    /// is not frozen.
    pub async fn movable_lines(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT cluster FROM runs AS waiting WHERE status = 'queued' \
             AND NOT EXISTS (SELECT 1 FROM runs AS holder \
                 WHERE holder.cluster = waiting.cluster AND holder.status = 'running') \
             AND NOT EXISTS (SELECT 1 FROM cluster_freezes \
                 WHERE cluster_freezes.cluster = waiting.cluster)",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(cluster,)| cluster).collect())
    }

    /// How many runs wait on `cluster`: in line, or for an approver.
    pub async fn runs_waiting_on(&self, cluster: &str) -> Result<usize, StoreError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM runs WHERE cluster = $1 \
             AND status IN ('queued', 'awaiting_approval')",
        )
        .bind(cluster)
        .fetch_one(&self.pool)
        .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// How many runs wait: in line, or for an approver.
    pub async fn runs_waiting(&self) -> Result<usize, StoreError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM runs WHERE status IN ('queued', 'awaiting_approval')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Deletes the output lines of runs that ended before `ended_before_ms`, keeping the runs
    /// and every other event (their grids and what their hosts reported); how many went.
    pub async fn forget_run_lines(&self, ended_before_ms: i64) -> Result<u64, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM run_events WHERE body LIKE '{\"type\":\"line\"%' AND run_id IN \
             (SELECT id FROM runs WHERE finished_at IS NOT NULL AND finished_at < $1)",
        )
        .bind(time_text(ended_before_ms))
        .execute(&self.pool)
        .await?;
        Ok(deleted.rows_affected())
    }

    /// One run with its plan.
    pub async fn run(&self, id: i64) -> Result<Option<(RunSummary, RunPlan)>, StoreError> {
        let row = sqlx::query(select_runs!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let plan: String = row.try_get("plan")?;
        let plan = serde_json::from_str(&plan).map_err(StoreError::Encode)?;
        Ok(Some((summary(&row)?, plan)))
    }

    /// The runs that retry run `id`, oldest first.
    pub async fn retries_of(&self, id: i64) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT id FROM runs WHERE retry_of = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Events of run `id` after number `after`, in order, at most `limit`.
    pub async fn run_events(
        &self,
        id: i64,
        after: i64,
        limit: u32,
    ) -> Result<Vec<RunEvent>, StoreError> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT seq, at_ms, body FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(seq, at_ms, body)| {
                Ok(RunEvent {
                    seq,
                    at_ms,
                    body: serde_json::from_str(&body).map_err(StoreError::Encode)?,
                })
            })
            .collect()
    }
}

fn summary(row: &AnyRow) -> Result<RunSummary, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(RunSummary {
        id: row.try_get("id")?,
        cluster: row.try_get("cluster")?,
        scenario: row.try_get("scenario")?,
        actor: row.try_get("actor")?,
        status: RunStatus::parse(&status).ok_or(StoreError::Corrupt("runs.status", status))?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        params: serde_json::from_str(&row.try_get::<String, _>("params")?)
            .map_err(StoreError::Encode)?,
        retry_of: row.try_get("retry_of")?,
        decided_by: row.try_get("decided_by")?,
        decision: row.try_get("decision")?,
        releases: Vec::new(),
    })
}

/// This machine's name, which tells its runs from other machines' in a shared database.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

/// Whether a process with this pid runs on this machine (Linux: it has a /proc entry).
fn process_alive(pid: i64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Events in one `INSERT` at most. SQLite finds each `$N` placeholder's number by walking the
/// statement's list of them, so binding a statement costs the square of its size: one of 512
/// events spent more time finding its placeholders than storing its rows.
const ROWS_PER_INSERT: usize = 32;

/// One `INSERT` of `events` (at least one) of run `run_id`.
fn insert_events(
    run_id: i64,
    events: &[RunEvent],
) -> Result<sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>, StoreError> {
    let rows: Vec<String> = (0..events.len())
        .map(|row| {
            let first = 4 * row + 1;
            format!("(${first}, ${}, ${}, ${})", first + 1, first + 2, first + 3)
        })
        .collect();
    let sql = format!(
        "INSERT INTO run_events (run_id, seq, at_ms, body) VALUES {}",
        rows.join(", ")
    );
    // Made of placeholders only; one text per number of events, each prepared once.
    let mut insert = sqlx::query(AssertSqlSafe(sql));
    for event in events {
        let body = serde_json::to_string(&event.body).map_err(StoreError::Encode)?;
        insert = insert
            .bind(run_id)
            .bind(event.seq)
            .bind(event.at_ms)
            .bind(body);
    }
    Ok(insert)
}
