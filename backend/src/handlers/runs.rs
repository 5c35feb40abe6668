//! `/api/runs`: start a scenario, list runs, a run's detail, its live events, cancel, approve
//! or reject.

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use knit_shared::runs::scenario_needs;
use knit_shared::{
    Decision, LogFormat, LogQuery, Role, RunDetail, RunList, RunQuery, RunSummary, StartRun,
};
use serde::Deserialize;

use super::extract::{Body, Caller, Deployer, Params, PathParam};
use crate::app::App;
use crate::error::ApiError;
use crate::runs::Standing;

/// Runs on a page, unless the query says.
const PAGE: u32 = 100;
/// Runs on a page at most.
const LONGEST_PAGE: u32 = 500;

/// Starts a scenario of a cluster (deployers; `launch` needs an admin).
#[utoipa::path(
    post,
    path = "/api/runs",
    operation_id = "runs_start",
    tag = "runs",
    request_body = knit_shared::StartRun,
    responses((status = 201, description = "Started", body = knit_shared::RunSummary))
)]
pub async fn start(
    State(app): State<App>,
    Deployer(caller): Deployer,
    Body(request): Body<StartRun>,
) -> Result<(StatusCode, Json<RunSummary>), ApiError> {
    let needs = scenario_needs(&request.scenario);
    caller.require(&app.store, needs, "this scenario").await?;
    let standing = match caller.me.role {
        Role::Admin => Standing::Admin,
        _ => Standing::Deployer,
    };
    let started = app
        .runs
        .start_request(&request, &caller.actor(), standing)
        .await?;
    let run = app.runs.summary(&started).await?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// Runs, newest first, filtered by cluster, scenario, status or person, a page at a time.
#[utoipa::path(
    get,
    path = "/api/runs",
    operation_id = "runs_list",
    tag = "runs",
    params(knit_shared::RunQuery),
    responses((status = 200, description = "OK", body = knit_shared::RunList))
)]
pub async fn list(
    State(app): State<App>,
    Params(query): Params<RunQuery>,
) -> Result<Json<RunList>, ApiError> {
    let page = query.limit.unwrap_or(PAGE).clamp(1, LONGEST_PAGE);
    // One more than the page says whether there is a next one.
    let mut runs = app.runs.store().runs(&query, page + 1).await?;
    let next = (runs.len() > page as usize).then(|| {
        runs.truncate(page as usize);
        runs.last().map(|run| run.id)
    });
    Ok(Json(RunList {
        runs,
        next: next.flatten(),
    }))
}

/// A run with its plan and where each step stands on each host.
#[utoipa::path(
    get,
    path = "/api/runs/{id}",
    operation_id = "runs_show",
    tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "OK", body = knit_shared::RunDetail))
)]
pub async fn show(
    State(app): State<App>,
    PathParam(id): PathParam<i64>,
) -> Result<Json<RunDetail>, ApiError> {
    let detail = app.runs.detail(id).await?;
    detail.map(Json).ok_or_else(|| no_run(id))
}

/// Cancels a running run: its remote commands are stopped (deployers; a cluster's operators
/// when it names them). A launch cannot be cancelled.
#[utoipa::path(
    post,
    path = "/api/runs/{id}/cancel",
    operation_id = "runs_cancel",
    tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 202, description = "Cancelling"))
)]
pub async fn cancel(
    State(app): State<App>,
    Deployer(caller): Deployer,
    PathParam(id): PathParam<i64>,
) -> Result<StatusCode, ApiError> {
    app.runs.cancel_request(id, &caller.actor()).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Deserialize)]
pub struct EventsParams {
    /// Resume after this event (the `Last-Event-ID` header wins).
    after: Option<i64>,
}

/// Server-Sent Events of a run, each with its number as id, ending after the run's end.
#[utoipa::path(
    get,
    path = "/api/runs/{id}/events",
    operation_id = "runs_events",
    tag = "runs",
    params(("id" = i64, Path, description = "Run id"), ("after" = Option<i64>, Query, description = "Resume after this event; the Last-Event-ID header wins")),
    responses((status = 200, description = "Server-Sent Events", content_type = "text/event-stream", body = String))
)]
pub async fn events(
    State(app): State<App>,
    caller: Caller,
    PathParam(id): PathParam<i64>,
    Params(params): Params<EventsParams>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    if app.runs.store().run(id).await?.is_none() {
        return Err(no_run(id));
    }
    let resumed = headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let after = resumed.or(params.after).unwrap_or(0);
    // Counted while the stream lives: it goes when the client does.
    let client = crate::metrics::FeedClient::new("runs");
    let events = tokio_stream::StreamExt::map_while(app.runs.follow(id, after), move |event| {
        let _counted = &client;
        let event = event
            .inspect_err(|error| tracing::error!(run = id, %error, "cannot read the run's events"))
            .ok()?;
        Some(Ok(Event::default()
            .id(event.seq.to_string())
            .event("run")
            .json_data(&event)
            .unwrap_or_default()))
    });
    let events = futures_util::StreamExt::take_until(events, app.stopping.cancelled_owned());
    let events = futures_util::StreamExt::take_until(events, caller.signed_out(&app.accounts));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// A run's log to keep or search: every line with its time, host, step and stream, as text or
/// JSON lines, streamed from the store however long it is.
#[utoipa::path(
    get,
    path = "/api/runs/{id}/log",
    operation_id = "runs_log",
    tag = "runs",
    params(("id" = i64, Path, description = "Run id"), knit_shared::LogQuery),
    responses((status = 200, description = "The log", content_type = "text/plain", body = String))
)]
pub async fn log(
    State(app): State<App>,
    PathParam(id): PathParam<i64>,
    Params(query): Params<LogQuery>,
) -> Result<Response, ApiError> {
    let Some((_, plan)) = app.runs.store().run(id).await? else {
        return Err(no_run(id));
    };
    if let Some(host) = &query.host
        && !plan.hosts.iter().any(|planned| &planned.name == host)
    {
        let hosts: Vec<&str> = plan.hosts.iter().map(|h| h.name.as_str()).collect();
        return Err(ApiError::Invalid(format!(
            "run {id} has no host {host}; its hosts are {}",
            hosts.join(", ")
        )));
    }
    let (content_type, extension) = match query.format {
        LogFormat::Text => ("text/plain; charset=utf-8", "log"),
        LogFormat::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    let lines =
        crate::runs::log::download(app.runs.store().clone(), id, plan, query.host, query.format);
    let headers = [
        (header::CONTENT_TYPE, content_type.to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"knit-run-{id}.{extension}\""),
        ),
    ];
    Ok((headers, axum::body::Body::from_stream(lines)).into_response())
}

fn no_run(id: i64) -> ApiError {
    ApiError::NotFound(format!("no run {id}"))
}

/// Approves a run awaiting approval: it waits in line and starts (the cluster's approvers, not
/// the person who asked).
#[utoipa::path(
    post,
    path = "/api/runs/{id}/approve",
    operation_id = "runs_approve",
    tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    request_body = knit_shared::Decision,
    responses((status = 204, description = "Approved"))
)]
pub async fn approve(
    State(app): State<App>,
    Deployer(caller): Deployer,
    PathParam(id): PathParam<i64>,
    Body(decision): Body<Decision>,
) -> Result<StatusCode, ApiError> {
    answer(&app, &caller, id, true, &decision).await
}

/// Rejects a run awaiting approval: it ends without running (the cluster's approvers, not the
/// person who asked).
#[utoipa::path(
    post,
    path = "/api/runs/{id}/reject",
    operation_id = "runs_reject",
    tag = "runs",
    params(("id" = i64, Path, description = "Run id")),
    request_body = knit_shared::Decision,
    responses((status = 204, description = "Rejected"))
)]
pub async fn reject(
    State(app): State<App>,
    Deployer(caller): Deployer,
    PathParam(id): PathParam<i64>,
    Body(decision): Body<Decision>,
) -> Result<StatusCode, ApiError> {
    answer(&app, &caller, id, false, &decision).await
}

/// An approver's answer to run `id`.
async fn answer(
    app: &App,
    caller: &Caller,
    id: i64,
    approved: bool,
    decision: &Decision,
) -> Result<StatusCode, ApiError> {
    app.runs
        .decide(id, &caller.actor(), approved, &decision.comment)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
