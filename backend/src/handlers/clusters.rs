//! `GET /api/clusters`: the clusters of the definition folders, and the runs that hold them.

use axum::Json;
use axum::extract::State;
use knit_shared::ClusterList;

use crate::app::App;
use crate::error::ApiError;

pub async fn list(State(app): State<App>) -> Result<Json<ClusterList>, ApiError> {
    Ok(Json(app.runs.catalogue(&app.cluster_dirs).await?))
}
