//! `GET /api/audit`: the audit log, newest first, for admins. Nothing changes it through the
//! API.

use axum::Json;
use axum::extract::State;
use knit_shared::{AuditList, AuditQuery};

use super::extract::{Admin, Params};
use crate::app::App;
use crate::error::ApiError;

/// Entries listed at most.
const LIST_LIMIT: u32 = 500;

/// The audit log, newest first (admins).
#[utoipa::path(
    get,
    path = "/api/audit",
    operation_id = "audit_list",
    tag = "audit",
    params(knit_shared::AuditQuery),
    responses((status = 200, description = "OK", body = knit_shared::AuditList))
)]
pub async fn list(
    State(app): State<App>,
    _: Admin,
    Params(query): Params<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let events = app.store.audit_events(&query, LIST_LIMIT).await?;
    Ok(Json(AuditList { events }))
}
