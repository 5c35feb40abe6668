//! `GET /api/regions`, `/api/zones` and `/api/profiles`: where the console can look, and as whom.

use axum::Json;
use axum::extract::State;
use knit_shared::{Profiles, Regions, ScopeQuery, Zones};

use super::extract::Params;
use crate::ec2::describe_zones;

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

pub async fn zones(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<Zones>, ApiError> {
    let hub = &app.inventory.hub;
    let scope = hub
        .resolve(query.profile.as_deref(), query.region.as_deref())
        .await?;
    let zones = describe_zones(&hub.client(&scope).await, &hub.target(&scope)).await?;
    Ok(Json(Zones {
        region: scope.region,
        zones,
    }))
}
