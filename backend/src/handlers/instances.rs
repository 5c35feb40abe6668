//! `/api/instances`: the list, actions, the live feed of changes, and an instance's system log.

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use knit_shared::{
    ActionRequest, ActionResponse, ConsoleOutput, InstanceList, InstanceQuery, ScopeQuery,
};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use super::extract::{Body, Caller, Deployer, Params, PathParam};
use crate::app::App;
use crate::clusters;
use crate::ec2;
use crate::error::ApiError;
use crate::store::AuditEvent;

/// Instances of a region, filtered and sorted.
#[utoipa::path(
    get,
    path = "/api/instances",
    operation_id = "instances_list",
    tag = "instances",
    params(knit_shared::InstanceQuery),
    responses((status = 200, description = "OK", body = knit_shared::InstanceList))
)]
pub async fn list(
    State(app): State<App>,
    Params(query): Params<InstanceQuery>,
) -> Result<Json<InstanceList>, ApiError> {
    Ok(Json(app.inventory.list(&query).await?))
}

/// Starts, stops, reboots (deployers), terminates or protects (admins) instances; one outcome
/// per instance. Instances of a cluster that names operators are theirs alone.
#[utoipa::path(
    post,
    path = "/api/instances/actions",
    operation_id = "instances_act",
    tag = "instances",
    request_body = knit_shared::ActionRequest,
    responses((status = 200, description = "OK", body = knit_shared::ActionResponse))
)]
pub async fn act(
    State(app): State<App>,
    Deployer(caller): Deployer,
    Body(request): Body<ActionRequest>,
) -> Result<Json<ActionResponse>, ApiError> {
    request.validate()?;
    let what = format!("{} instances", request.action.verb());
    caller
        .require(&app.store, request.action.needs(), &what)
        .await?;
    let actor = caller.actor();
    app.store
        .record(&AuditEvent::of_request(&actor, &request))
        .await?;
    let clusters = app.runs.cluster_list().await?;
    let closed = clusters::closed_to(&clusters, &caller.me.name);
    let response = app.inventory.act(&request, &closed).await?;
    app.store
        .record(&AuditEvent::of_action(&actor, &request, &response))
        .await?;
    Ok(Json(response))
}

/// Server-Sent Events: first every instance of the region, then what changes, as it changes.
#[utoipa::path(
    get,
    path = "/api/instances/events",
    operation_id = "instances_events",
    tag = "instances",
    params(knit_shared::ScopeQuery),
    responses((status = 200, description = "Server-Sent Events", content_type = "text/event-stream", body = String))
)]
pub async fn events(
    State(app): State<App>,
    caller: Caller,
    Params(params): Params<ScopeQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let scope = app
        .inventory
        .hub
        .resolve(params.profile.as_deref(), params.region.as_deref())
        .await?;
    let (first, feed) = app.inventory.watch(&scope).await?;
    // A subscriber that falls behind skips what it missed; the next change brings it up to date.
    let changes = BroadcastStream::new(feed).filter_map(Result::ok);
    // Counted while the stream lives: it goes when the client does.
    let client = crate::metrics::FeedClient::new("instances");
    let events = tokio_stream::once(first)
        .chain(changes)
        .map(move |changes| {
            let _counted = &client;
            Ok(Event::default()
                .event("changes")
                .json_data(changes)
                .unwrap_or_default())
        });
    let events = futures_util::StreamExt::take_until(events, app.stopping.cancelled_owned());
    let events = futures_util::StreamExt::take_until(events, caller.signed_out(&app.accounts));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The end of an instance's system log (EC2's console output, the last 64 KiB): where a failed
/// boot is read.
#[utoipa::path(
    get,
    path = "/api/instances/{id}/console",
    operation_id = "instances_console",
    tag = "instances",
    params(("id" = String, Path, description = "Instance id"), ScopeQuery),
    responses((status = 200, description = "OK", body = knit_shared::ConsoleOutput))
)]
pub async fn console(
    State(app): State<App>,
    PathParam(id): PathParam<String>,
    Params(scope): Params<ScopeQuery>,
) -> Result<Json<ConsoleOutput>, ApiError> {
    knit_shared::validate::instance_id(&id)?;
    let ec2 = app
        .inventory
        .connect(scope.profile.as_deref(), scope.region.as_deref())
        .await?;
    Ok(Json(ec2::system_log(&ec2.client, &ec2.target, &id).await?))
}
