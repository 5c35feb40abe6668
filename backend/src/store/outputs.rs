//! What hosts reported in runs (`::knit-output name=value`), and each host's latest: what it
//! runs now.

use std::collections::BTreeMap;

use knit_shared::HostRelease;

use super::{Store, StoreError};

/// Rows read at most for a cluster's live view: many runs' worth of a few values per host.
const LIVE_ROWS: i64 = 5000;

impl Store {
    /// Records what each host of `outputs` reported in run `run_id`.
    pub async fn record_outputs(
        &self,
        run_id: i64,
        outputs: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        for (host, values) in outputs {
            for (name, value) in values {
                sqlx::query(
                    "INSERT INTO run_outputs (run_id, host, name, value) VALUES ($1, $2, $3, $4)",
                )
                .bind(run_id)
                .bind(host)
                .bind(name)
                .bind(value)
                .execute(&mut *transaction)
                .await?;
            }
        }
        transaction.commit().await?;
        Ok(())
    }

    /// The releases each of runs `ids` left live (its hosts' `release`), each named once.
    pub async fn releases_of(&self, ids: &[i64]) -> Result<BTreeMap<i64, Vec<String>>, StoreError> {
        let (Some(first), Some(last)) = (ids.iter().min(), ids.iter().max()) else {
            return Ok(BTreeMap::new());
        };
        // One range read: the runs listed are a page of consecutive ids, mostly.
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT DISTINCT run_id, value FROM run_outputs \
             WHERE run_id >= $1 AND run_id <= $2 AND name = 'release' ORDER BY run_id, value",
        )
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await?;
        let mut releases: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (run, release) in rows.into_iter().filter(|(run, _)| ids.contains(run)) {
            releases.entry(run).or_default().push(release);
        }
        Ok(releases)
    }

    /// For each host of `cluster` that reported anything, what it reported in its latest run.
    pub async fn live_outputs(&self, cluster: &str) -> Result<Vec<HostRelease>, StoreError> {
        let rows: Vec<(String, String, String, i64, String, String)> = sqlx::query_as(
            "SELECT o.host, o.name, o.value, r.id, r.actor, COALESCE(r.finished_at, r.started_at) \
             FROM run_outputs o JOIN runs r ON r.id = o.run_id WHERE r.cluster = $1 \
             ORDER BY r.id DESC LIMIT $2",
        )
        .bind(cluster)
        .bind(LIVE_ROWS)
        .fetch_all(&self.pool)
        .await?;
        let mut live: BTreeMap<String, HostRelease> = BTreeMap::new();
        for (host, name, value, run, actor, at) in rows {
            let release = live.entry(host.clone()).or_insert_with(|| HostRelease {
                host,
                outputs: BTreeMap::new(),
                run,
                actor,
                at,
            });
            // Older runs of a host that reported since say what it ran before.
            if release.run == run {
                release.outputs.insert(name, value);
            }
        }
        Ok(live.into_values().collect())
    }
}
