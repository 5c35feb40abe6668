//! `GET /api/regions`, `/api/zones` and `/api/profiles`: where the console can look, and as whom.

use axum::Json;
use axum::extract::State;
use knit_shared::{Profiles, Regions, ScopeQuery, Zones};

use super::extract::Params;
use crate::ec2::describe_zones;

use crate::app::App;
use crate::error::ApiError;

/// The account's regions and the default one.
#[utoipa::path(
    get,
    path = "/api/regions",
    operation_id = "regions_list",
    tag = "ec2",
    responses((status = 200, description = "OK", body = knit_shared::Regions))
)]
pub async fn list(State(app): State<App>) -> Result<Json<Regions>, ApiError> {
    let hub = &app.inventory.hub;
    Ok(Json(Regions {
        default: hub.default_region().await.to_owned(),
        regions: hub.regions().await?.to_vec(),
    }))
}

/// The AWS profiles configured on the server.
#[utoipa::path(
    get,
    path = "/api/profiles",
    operation_id = "regions_profiles",
    tag = "ec2",
    responses((status = 200, description = "OK", body = knit_shared::Profiles))
)]
pub async fn profiles(State(app): State<App>) -> Json<Profiles> {
    Json(Profiles {
        default: app.settings.profile.clone(),
        profiles: app.inventory.hub.profiles(),
    })
}

/// The region's available zones.
#[utoipa::path(
    get,
    path = "/api/zones",
    operation_id = "regions_zones",
    tag = "ec2",
    params(knit_shared::ScopeQuery),
    responses((status = 200, description = "OK", body = knit_shared::Zones))
)]
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
