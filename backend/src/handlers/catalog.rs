//! `/api/images`, `/api/instance-types`, `/api/subnets`, `/api/instance-profiles`,
//! `/api/key-pairs`: what the launch wizard offers.

use axum::Json;
use axum::extract::State;
use knit_shared::{
    ImageList, ImageQuery, InstanceProfileList, InstanceTypeList, KeyPairList, ScopeQuery,
    SubnetList,
};

use super::extract::Params;
use crate::app::App;
use crate::error::ApiError;

pub async fn images(
    State(app): State<App>,
    Params(query): Params<ImageQuery>,
) -> Result<Json<ImageList>, ApiError> {
    Ok(Json(app.inventory.images(&query).await?))
}

pub async fn instance_types(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<InstanceTypeList>, ApiError> {
    Ok(Json(app.inventory.instance_types(&query).await?))
}

pub async fn subnets(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<SubnetList>, ApiError> {
    Ok(Json(app.inventory.subnets(&query).await?))
}

pub async fn instance_profiles(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<InstanceProfileList>, ApiError> {
    Ok(Json(app.inventory.instance_profiles(&query).await?))
}

pub async fn key_pairs(
    State(app): State<App>,
    Params(query): Params<ScopeQuery>,
) -> Result<Json<KeyPairList>, ApiError> {
    Ok(Json(app.inventory.key_pairs(&query).await?))
}
