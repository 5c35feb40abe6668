//! `/api/wizard/…`: the launch wizard's last step, its dry run, and the new instances'
//! progress after it.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use knit_shared::{ClientAddress, ProgressQuery, WizardCheck, WizardLaunched, WizardRequest};

use super::extract::{Admin, Body, Caller, Params};
use crate::app::App;
use crate::error::ApiError;

/// Launches instances from the wizard's request (admins).
#[utoipa::path(
    post,
    path = "/api/wizard/launch",
    operation_id = "wizard_launch",
    tag = "wizard",
    request_body = knit_shared::WizardRequest,
    responses((status = 201, description = "Launched", body = knit_shared::WizardLaunched), (status = 200, description = "Launched before with this client token", body = knit_shared::WizardLaunched))
)]
pub async fn launch(
    State(app): State<App>,
    Admin(caller): Admin,
    Body(request): Body<WizardRequest>,
) -> Result<(StatusCode, Json<WizardLaunched>), ApiError> {
    let response = app
        .wizard
        .launch(&app.store, &request, &caller.actor())
        .await?;
    let status = if response.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(response)))
}

/// `POST /api/wizard/check`: EC2's dry run, before anything is created.
#[utoipa::path(
    post,
    path = "/api/wizard/check",
    operation_id = "wizard_check",
    tag = "wizard",
    request_body = knit_shared::WizardRequest,
    responses((status = 200, description = "OK", body = knit_shared::WizardCheck))
)]
pub async fn check(
    State(app): State<App>,
    _: Admin,
    Body(request): Body<WizardRequest>,
) -> Result<Json<WizardCheck>, ApiError> {
    Ok(Json(app.wizard.check(&request).await?))
}

/// `GET /api/client-address`: the browser's address as this server sees it ("My IP").
#[utoipa::path(
    get,
    path = "/api/client-address",
    operation_id = "wizard_client_address",
    tag = "wizard",
    responses((status = 200, description = "OK", body = knit_shared::ClientAddress))
)]
pub async fn client_address(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Json<ClientAddress> {
    Json(ClientAddress::of(peer.ip()))
}

/// `GET /api/wizard/progress?ids=…`: Server-Sent Events, each instance's state, status checks
/// and SSH port whenever one of them moves; the stream ends when all are ready or gave up.
#[utoipa::path(
    get,
    path = "/api/wizard/progress",
    operation_id = "wizard_progress",
    tag = "wizard",
    params(knit_shared::ProgressQuery),
    responses((status = 200, description = "Server-Sent Events", content_type = "text/event-stream", body = String))
)]
pub async fn progress(
    State(app): State<App>,
    caller: Caller,
    Params(query): Params<ProgressQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let updates = app.wizard.progress(&query).await?;
    let events = updates
        .map(|progress| {
            Ok(Event::default()
                .event("progress")
                .json_data(progress)
                .unwrap_or_default())
        })
        .take_until(app.stopping.cancelled_owned())
        .take_until(caller.signed_out(&app.accounts));
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
