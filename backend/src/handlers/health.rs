//! `GET /api/health`: is the server up, and what is it connected to.

use axum::Json;
use axum::extract::State;
use knit_shared::Health;

use crate::app::App;
use crate::error::ApiError;

/// Whether knit and its database answer: version, default region and profile, sandbox details.
#[utoipa::path(
    get,
    path = "/api/health",
    security(()),
    operation_id = "health_show",
    tag = "health",
    responses((status = 200, description = "OK", body = knit_shared::Health))
)]
pub async fn show(State(app): State<App>) -> Result<Json<Health>, ApiError> {
    app.store
        .ping()
        .await
        .map_err(|error| ApiError::Unavailable(format!("the database does not answer: {error}")))?;
    Ok(Json(Health {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        region: app.inventory.hub.default_region().await.to_owned(),
        profile: app.settings.profile.clone(),
        sandbox: app.sandbox.clone(),
    }))
}
