//! How the notifications of runs went.

use knit_shared::Delivery;

use super::{Store, StoreError};

impl Store {
    /// Records how notification `event` of run `run_id` to receiver `position` (shown as
    /// `receiver`) went so far.
    #[expect(clippy::too_many_arguments, reason = "one row's columns")]
    pub async fn record_delivery(
        &self,
        run_id: i64,
        event: &str,
        position: usize,
        receiver: &str,
        status: &str,
        attempts: u32,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO run_notifications (run_id, event, position, receiver, status, attempts, error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (run_id, event, position) \
             DO UPDATE SET status = $5, attempts = $6, error = $7",
        )
        .bind(run_id)
        .bind(event)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(receiver)
        .bind(status)
        .bind(i64::from(attempts))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The notifications of run `run_id`, in the order of its events, then receivers.
    pub async fn deliveries(&self, run_id: i64) -> Result<Vec<Delivery>, StoreError> {
        let rows: Vec<(String, String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT event, receiver, status, attempts, error FROM run_notifications \
             WHERE run_id = $1 ORDER BY CASE event WHEN 'approval' THEN 0 WHEN 'start' THEN 1 \
             ELSE 2 END, position",
        )
        .bind(run_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(event, receiver, status, attempts, error)| Delivery {
                event,
                receiver,
                status,
                attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                error,
            })
            .collect())
    }
}
