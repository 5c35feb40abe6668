//! `POST /api/launch`: the launch wizard's last step.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use knit_shared::{LaunchRequest, LaunchResponse};

use super::ACTOR;
use super::extract::Body;
use crate::app::App;
use crate::error::ApiError;

pub async fn launch(
    State(app): State<App>,
    Body(request): Body<LaunchRequest>,
) -> Result<(StatusCode, Json<LaunchResponse>), ApiError> {
    let response = app.inventory.launch(&app.store, &request, ACTOR).await?;
    let status = if response.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(response)))
}
