//! `POST /api/launch`: the launch wizard's last step, its dry run, and the new instances'
//! progress after it.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use knit_shared::{ClientAddress, LaunchCheck, LaunchRequest, LaunchResponse, ProgressQuery};

use super::extract::{Body, Params, Who};
use crate::app::App;
use crate::error::ApiError;

pub async fn launch(
    State(app): State<App>,
    Who(actor): Who,
    Body(request): Body<LaunchRequest>,
) -> Result<(StatusCode, Json<LaunchResponse>), ApiError> {
    let response = app.inventory.launch(&app.store, &request, &actor).await?;
    let status = if response.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(response)))
}

/// `POST /api/launch/check`: EC2's dry run, before anything is created.
pub async fn check(
    State(app): State<App>,
    Body(request): Body<LaunchRequest>,
) -> Result<Json<LaunchCheck>, ApiError> {
    Ok(Json(app.inventory.check_launch(&request).await?))
}

/// `GET /api/client-address`: the browser's address as this server sees it ("My IP").
pub async fn client_address(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> Json<ClientAddress> {
    Json(ClientAddress::of(peer.ip()))
}

/// `GET /api/launch/progress?ids=…`: Server-Sent Events, each instance's state, status checks
/// and SSH port whenever one of them moves; the stream ends when all are ready or gave up.
pub async fn progress(
    State(app): State<App>,
    Params(query): Params<ProgressQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let updates = app.inventory.launch_progress(&query).await?;
    let events = updates
        .map(|progress| {
            Ok(Event::default()
                .event("progress")
                .json_data(progress)
                .unwrap_or_default())
        })
        .take_until(app.stopping.cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
