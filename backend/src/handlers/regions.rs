//! `GET /api/regions`: where the console can look.

use axum::Json;
use axum::extract::State;
use knit_shared::Regions;

use crate::app::App;
use crate::error::ApiError;

pub async fn list(State(app): State<App>) -> Result<Json<Regions>, ApiError> {
    let hub = &app.inventory.hub;
    Ok(Json(Regions {
        default: hub.default_region().to_owned(),
        regions: hub.regions().await?.to_vec(),
    }))
}
