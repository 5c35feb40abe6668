//! `GET /api/regions` and `GET /api/profiles`: where the console can look, and as whom.

use axum::Json;
use axum::extract::State;
use knit_shared::{Profiles, Regions};

use crate::app::App;
use crate::error::ApiError;

pub async fn list(State(app): State<App>) -> Result<Json<Regions>, ApiError> {
    let hub = &app.inventory.hub;
    Ok(Json(Regions {
        default: hub.default_region().to_owned(),
        regions: hub.regions().await?.to_vec(),
    }))
}

pub async fn profiles(State(app): State<App>) -> Json<Profiles> {
    Json(Profiles {
        default: app.settings.profile.clone(),
        profiles: app.inventory.hub.profiles(),
    })
}
