//! `GET /api/audit`: the audit log, newest first. Nothing changes it through the API.

use axum::Json;
use axum::extract::State;
use knit_shared::{AuditList, AuditQuery};

use super::extract::Params;
use crate::app::App;
use crate::error::ApiError;

/// Entries listed at most.
const LIST_LIMIT: u32 = 500;

pub async fn list(
    State(app): State<App>,
    Params(query): Params<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let events = app.store.audit_events(&query, LIST_LIMIT).await?;
    Ok(Json(AuditList { events }))
}
