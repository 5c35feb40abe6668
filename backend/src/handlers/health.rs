//! `GET /api/health`: is the server up, and what is it connected to.

use axum::Json;
use axum::extract::State;
use knit_shared::Health;

use crate::app::App;
use crate::error::ApiError;

pub async fn show(State(app): State<App>) -> Result<Json<Health>, ApiError> {
    app.store
        .ping()
        .await
        .map_err(|error| ApiError::Unavailable(format!("the database does not answer: {error}")))?;
    Ok(Json(Health {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        region: app.inventory.hub.default_region().to_owned(),
        profile: app.settings.profile.clone(),
        sandbox: app.sandbox.clone(),
    }))
}
