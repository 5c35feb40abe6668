//! `/api/images`, `/api/images/quick-start`, `/api/instance-types`, `/api/subnets`, `/api/instance-profiles`,
//! `/api/key-pairs`: what the launch wizard offers.

use axum::Json;
use axum::extract::State;
use knit_shared::{
    ImageList, ImageQuery, InstanceProfileList, InstanceTypeList, KeyPairList, QuickStartList,
    ScopeQuery, SubnetList,
};

use super::extract::Params;
use crate::app::App;
use crate::error::ApiError;

/// Images (AMIs) to launch from, searched.
#[utoipa::path(
    get,
    path = "/api/images",
    operation_id = "catalog_images",
    tag = "launch",
    params(knit_shared::ImageQuery),
    responses((status = 200, description = "OK", body = knit_shared::ImageList))
)]
pub async fn images(
    State(app): State<App>,
    Params(query): Params<ImageQuery>,
) -> Result<Json<ImageList>, ApiError> {
    Ok(Json(app.wizard.images(&query).await?))
}

/// The current images of Amazon Linux, Ubuntu and Debian in the region.
#[utoipa::path(
    get,
    path = "/api/images/quick-start",
    operation_id = "catalog_quick_start",
    tag = "launch",
    params(knit_shared::ScopeQuery),
    responses((status = 200, description = "OK", body = knit_shared::QuickStartList))
)]
pub async fn quick_start(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<QuickStartList>, ApiError> {
    Ok(Json(app.wizard.quick_start(&query).await?))
}

/// Instance types with their prices.
#[utoipa::path(
    get,
    path = "/api/instance-types",
    operation_id = "catalog_instance_types",
    tag = "launch",
    params(knit_shared::ScopeQuery),
    responses((status = 200, description = "OK", body = knit_shared::InstanceTypeList))
)]
pub async fn instance_types(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<InstanceTypeList>, ApiError> {
    Ok(Json(app.wizard.instance_types(&query).await?))
}

/// Subnets of the region.
#[utoipa::path(
    get,
    path = "/api/subnets",
    operation_id = "catalog_subnets",
    tag = "launch",
    params(knit_shared::ScopeQuery),
    responses((status = 200, description = "OK", body = knit_shared::SubnetList))
)]
pub async fn subnets(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<SubnetList>, ApiError> {
    Ok(Json(app.wizard.subnets(&query).await?))
}

/// IAM instance profiles to launch with.
#[utoipa::path(
    get,
    path = "/api/instance-profiles",
    operation_id = "catalog_instance_profiles",
    tag = "launch",
    params(knit_shared::ScopeQuery),
    responses((status = 200, description = "OK", body = knit_shared::InstanceProfileList))
)]
pub async fn instance_profiles(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<InstanceProfileList>, ApiError> {
    Ok(Json(app.wizard.instance_profiles(&query).await?))
}

/// Key pairs of the region.
#[utoipa::path(
    get,
    path = "/api/key-pairs",
    operation_id = "catalog_key_pairs",
    tag = "launch",
    params(knit_shared::ScopeQuery),
    responses((status = 200, description = "OK", body = knit_shared::KeyPairList))
)]
pub async fn key_pairs(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<KeyPairList>, ApiError> {
    Ok(Json(app.wizard.key_pairs(&query).await?))
}
