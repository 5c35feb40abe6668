//! `POST /api/clusters/{name}/schedules/{scenario}/pause|resume`: an admin stops a schedule's
//! occurrences from starting runs, and lets them again.

use axum::extract::State;
use axum::http::StatusCode;

use super::extract::{Admin, PathParam};
use crate::app::App;
use crate::error::ApiError;
use crate::runs::schedules;

/// Pauses the scenario's schedule: its occurrences pass without a run until resumed (admins).
#[utoipa::path(
    post,
    path = "/api/clusters/{name}/schedules/{scenario}/pause",
    operation_id = "schedules_pause",
    tag = "clusters",
    params(("name" = String, Path, description = "Cluster name"), ("scenario" = String, Path, description = "Scenario with a schedule")),
    responses((status = 204, description = "Paused"))
)]
pub async fn pause(
    State(app): State<App>,
    Admin(caller): Admin,
    PathParam((name, scenario)): PathParam<(String, String)>,
) -> Result<StatusCode, ApiError> {
    set(&app, &caller, &name, &scenario, true).await
}

/// Resumes the scenario's schedule (admins).
#[utoipa::path(
    post,
    path = "/api/clusters/{name}/schedules/{scenario}/resume",
    operation_id = "schedules_resume",
    tag = "clusters",
    params(("name" = String, Path, description = "Cluster name"), ("scenario" = String, Path, description = "Scenario with a schedule")),
    responses((status = 204, description = "Resumed"))
)]
pub async fn resume(
    State(app): State<App>,
    Admin(caller): Admin,
    PathParam((name, scenario)): PathParam<(String, String)>,
) -> Result<StatusCode, ApiError> {
    set(&app, &caller, &name, &scenario, false).await
}

async fn set(
    app: &App,
    caller: &super::extract::Caller,
    cluster: &str,
    scenario: &str,
    paused: bool,
) -> Result<StatusCode, ApiError> {
    let actor = caller.actor();
    schedules::set_paused(&app.runs, cluster, scenario, &actor, paused).await?;
    Ok(StatusCode::NO_CONTENT)
}
