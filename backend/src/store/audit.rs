//! The audit log: an append-only record of state changes.

use super::{Store, StoreError, now_text};

/// Who acts through the console, until accounts exist.
pub const CONSOLE_ACTOR: &str = "console";

/// One audited action, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub actor: String,
    pub address: Option<String>,
    pub action: String,
    pub target: String,
    pub outcome: String,
}

impl Store {
    pub async fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_events (at, actor, address, action, target, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(now_text())
        .bind(&event.actor)
        .bind(&event.address)
        .bind(&event.action)
        .bind(&event.target)
        .bind(&event.outcome)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest `limit` events, newest first.
    pub async fn recent_audit_events(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<(String, Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT actor, address, action, target, outcome FROM audit_events ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(actor, address, action, target, outcome)| AuditEvent {
                actor,
                address,
                action,
                target,
                outcome,
            })
            .collect())
    }
}

impl AuditEvent {
    /// The record of an action on instances, with how many succeeded.
    pub fn of_action(
        request: &knit_shared::ActionRequest,
        response: &knit_shared::ActionResponse,
    ) -> Self {
        let failed = response.outcomes.iter().filter(|o| !o.ok).count();
        Self {
            // Accounts arrive later; until then every change is the console's.
            actor: CONSOLE_ACTOR.to_owned(),
            address: None,
            action: format!("instances.{}", request.action.verb()),
            target: request.instance_ids.join(","),
            outcome: format!("{} ok, {failed} failed", response.outcomes.len() - failed),
        }
    }
}
