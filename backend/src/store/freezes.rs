//! Frozen clusters: while one is frozen, no run starts on it.

use knit_shared::Freeze;

use super::{Store, StoreError, now_text};

impl Store {
    /// Freezes `cluster` with `message` (again: a new message and time).
    pub async fn freeze(
        &self,
        cluster: &str,
        message: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cluster_freezes (cluster, message, actor, since) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (cluster) DO UPDATE SET message = excluded.message, actor = excluded.actor, \
             since = excluded.since",
        )
        .bind(cluster)
        .bind(message)
        .bind(actor)
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Unfreezes `cluster`; whether it was frozen.
    pub async fn unfreeze(&self, cluster: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM cluster_freezes WHERE cluster = $1")
            .bind(cluster)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The freeze of `cluster`, if it is frozen.
    pub async fn freeze_of(&self, cluster: &str) -> Result<Option<Freeze>, StoreError> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT message, actor, since FROM cluster_freezes WHERE cluster = $1")
                .bind(cluster)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(message, by, since)| Freeze { message, by, since }))
    }

    /// Every frozen cluster with its freeze.
    pub async fn freezes(&self) -> Result<Vec<(String, Freeze)>, StoreError> {
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as("SELECT cluster, message, actor, since FROM cluster_freezes")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(cluster, message, by, since)| (cluster, Freeze { message, by, since }))
            .collect())
    }
}
