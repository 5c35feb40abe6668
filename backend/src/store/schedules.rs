//! Scheduled runs: each occurrence claimed once across the servers sharing the database, and
//! the schedules an admin paused.

use super::{Store, StoreError, now_text};

impl Store {
    /// Claims `occurrence` (RFC 3339, UTC) of `cluster`'s `scenario` for `server`; whether this
    /// claim won (another server's, made first, wins otherwise).
    pub async fn claim_occurrence(
        &self,
        cluster: &str,
        scenario: &str,
        occurrence: &str,
        server: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO schedule_claims (cluster, scenario, occurrence, claimed_by) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(cluster)
        .bind(scenario)
        .bind(occurrence)
        .bind(server)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The latest occurrence of `cluster`'s `scenario` any server claimed.
    pub async fn last_claimed(
        &self,
        cluster: &str,
        scenario: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: (Option<String>,) = sqlx::query_as(
            "SELECT MAX(occurrence) FROM schedule_claims WHERE cluster = $1 AND scenario = $2",
        )
        .bind(cluster)
        .bind(scenario)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.0)
    }

    /// Every claimed occurrence of `cluster`'s `scenario` with the server that claimed it,
    /// oldest first.
    pub async fn claimed_occurrences(
        &self,
        cluster: &str,
        scenario: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT occurrence, claimed_by FROM schedule_claims \
             WHERE cluster = $1 AND scenario = $2 ORDER BY occurrence",
        )
        .bind(cluster)
        .bind(scenario)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Pauses (`Some(actor)`) or resumes (`None`) the schedule of `cluster`'s `scenario`.
    pub async fn pause_schedule(
        &self,
        cluster: &str,
        scenario: &str,
        actor: Option<&str>,
    ) -> Result<(), StoreError> {
        let query = match actor {
            Some(_) => {
                "INSERT INTO schedule_pauses (cluster, scenario, actor, since) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (cluster, scenario) DO NOTHING"
            }
            None => "DELETE FROM schedule_pauses WHERE cluster = $1 AND scenario = $2",
        };
        let mut query = sqlx::query(query).bind(cluster).bind(scenario);
        if let Some(actor) = actor {
            query = query.bind(actor).bind(now_text());
        }
        query.execute(&self.pool).await?;
        Ok(())
    }

    /// Who paused `cluster`'s `scenario`, if it is paused.
    pub async fn schedule_paused_by(
        &self,
        cluster: &str,
        scenario: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT actor FROM schedule_pauses WHERE cluster = $1 AND scenario = $2",
        )
        .bind(cluster)
        .bind(scenario)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(actor,)| actor))
    }
}
