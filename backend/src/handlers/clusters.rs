//! `GET /api/clusters`: the clusters of the definition folders, and the runs that hold them;
//! `GET /api/clusters/{name}/plan`: what `launch` would change; `.../releases`: what each host
//! runs now.

use axum::Json;
use axum::extract::State;
use knit_shared::{ClusterList, LaunchPlan, ReleaseList};

use super::extract::PathParam;

use crate::app::App;
use crate::error::ApiError;

/// Clusters of the definition folders with their machines, scenarios and running run, and the mistakes of broken files.
#[utoipa::path(
    get,
    path = "/api/clusters",
    operation_id = "clusters_list",
    tag = "clusters",
    responses((status = 200, description = "OK", body = knit_shared::ClusterList))
)]
pub async fn list(State(app): State<App>) -> Result<Json<ClusterList>, ApiError> {
    let mut list = app.runs.catalogue(&app.cluster_dirs).await?;
    app.inventory.attach_instances(&mut list).await;
    Ok(Json(list))
}

/// What `launch` would change in EC2 for the cluster.
#[utoipa::path(
    get,
    path = "/api/clusters/{name}/plan",
    operation_id = "clusters_plan",
    tag = "clusters",
    params(("name" = String, Path, description = "Cluster name")),
    responses((status = 200, description = "OK", body = knit_shared::LaunchPlan))
)]
pub async fn plan(
    State(app): State<App>,
    PathParam(name): PathParam<String>,
) -> Result<Json<LaunchPlan>, ApiError> {
    let plan = app
        .runs
        .launch_plan(&app.cluster_dirs, &app.inventory.hub, &name)
        .await?;
    Ok(Json(plan))
}

/// What each host of the cluster runs now: what it reported in its latest run that ended well
/// on it (release, commit, ref, ...), with that run.
#[utoipa::path(
    get,
    path = "/api/clusters/{name}/releases",
    operation_id = "clusters_releases",
    tag = "clusters",
    params(("name" = String, Path, description = "Cluster name")),
    responses((status = 200, description = "OK", body = knit_shared::ReleaseList))
)]
pub async fn releases(
    State(app): State<App>,
    PathParam(name): PathParam<String>,
) -> Result<Json<ReleaseList>, ApiError> {
    let hosts = app.store.live_outputs(&name).await?;
    Ok(Json(ReleaseList {
        cluster: name,
        hosts,
    }))
}
