//! The audit log: an append-only record of state changes.

use knit_shared::{AuditEntry, AuditQuery};

use super::{Store, StoreError, now_text};

/// Who asks for a change, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    /// The address the request came from; `None` on the command line.
    pub address: Option<String>,
}

impl Actor {
    /// Someone with no address: the CLI's user, or a test.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            address: None,
        }
    }

    /// The record of `action` on `target` by this actor, which ended with `outcome`.
    pub fn did(&self, action: &str, target: String, outcome: String) -> AuditEvent {
        AuditEvent {
            actor: self.name.clone(),
            address: self.address.clone(),
            action: action.to_owned(),
            target,
            outcome,
        }
    }
}

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

    /// The newest `limit` entries matching `query`, newest first.
    pub async fn audit_events(
        &self,
        query: &AuditQuery,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<(String, String, Option<String>, String, String, String)> = sqlx::query_as(
            "SELECT at, actor, address, action, target, outcome FROM audit_events \
             WHERE ($1 IS NULL OR actor = $1) \
             AND ($2 IS NULL OR substr(action, 1, length($2)) = $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(&query.actor)
        .bind(&query.action)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, address, action, target, outcome)| AuditEntry {
                at,
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
    /// The record of an action on instances asked by `actor`, before it is carried out: a
    /// database that cannot take it refuses the action, and a crash midway leaves the intent.
    pub fn of_request(actor: &Actor, request: &knit_shared::ActionRequest) -> Self {
        actor.did(
            &format!("instances.{}", request.action.verb()),
            request.instance_ids.join(","),
            "requested".to_owned(),
        )
    }

    /// The record of how an action on instances by `actor` ended: how many succeeded.
    pub fn of_action(
        actor: &Actor,
        request: &knit_shared::ActionRequest,
        response: &knit_shared::ActionResponse,
    ) -> Self {
        let failed = response.outcomes.iter().filter(|o| !o.ok).count();
        actor.did(
            &format!("instances.{}", request.action.verb()),
            request.instance_ids.join(","),
            format!("{} ok, {failed} failed", response.outcomes.len() - failed),
        )
    }
}
