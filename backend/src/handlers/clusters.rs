//! `GET /api/clusters`: the clusters of the definition folders.

use axum::Json;
use axum::extract::State;
use knit_shared::ClusterList;

use crate::app::App;
use crate::clusters;
use crate::error::ApiError;

pub async fn list(State(app): State<App>) -> Result<Json<ClusterList>, ApiError> {
    let dirs = app.cluster_dirs.clone();
    let list = tokio::task::spawn_blocking(move || clusters::catalogue(&dirs))
        .await
        .map_err(|error| ApiError::Internal(error.into()))?;
    Ok(Json(list))
}
