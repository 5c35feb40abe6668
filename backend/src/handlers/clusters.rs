//! `GET /api/clusters`: the clusters of the definition folders, and the runs that hold them;
//! `GET /api/clusters/{name}/changes`: what `launch` would change; `.../releases`: what each host
//! runs now; `.../hosts`: the hosts a run would use; `.../diff`: what a run would change;
//! `POST .../freeze` and `.../unfreeze`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use std::collections::BTreeMap;

use knit_shared::{
    ClusterHosts, ClusterList, FreezeRequest, LaunchChanges, ReleaseList, Role, RunDiff, StartRun,
};

use super::extract::{Body, Deployer, Params, PathParam};

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
    let mut list = app.runs.cluster_list().await?;
    app.inventory.attach_instances(&mut list).await;
    Ok(Json(list))
}

/// What `launch` would change in EC2 for the cluster.
#[utoipa::path(
    get,
    path = "/api/clusters/{name}/changes",
    operation_id = "clusters_changes",
    tag = "clusters",
    params(("name" = String, Path, description = "Cluster name")),
    responses((status = 200, description = "OK", body = knit_shared::LaunchChanges))
)]
pub async fn changes(
    State(app): State<App>,
    PathParam(name): PathParam<String>,
) -> Result<Json<LaunchChanges>, ApiError> {
    let changes = app.runs.fleet().launch_changes(&name).await?;
    Ok(Json(changes))
}

/// The hosts a run of the cluster would use now (its static hosts, or the instances EC2 runs),
/// named as runs name them, with their roles.
#[utoipa::path(
    get,
    path = "/api/clusters/{name}/hosts",
    operation_id = "clusters_hosts",
    tag = "clusters",
    params(("name" = String, Path, description = "Cluster name")),
    responses((status = 200, description = "OK", body = knit_shared::ClusterHosts))
)]
pub async fn hosts(
    State(app): State<App>,
    PathParam(name): PathParam<String>,
) -> Result<Json<ClusterHosts>, ApiError> {
    let hosts = app.runs.fleet().cluster_hosts(&name).await?;
    Ok(Json(ClusterHosts { hosts }))
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

/// What a run of `scenario` (with the other query parameters as its parameters, e.g.
/// `ref=v2`) would change on each host, asked now and changing nothing: the commits and
/// migrations its roles report, and each file it would write as a unified diff against the
/// host's (secrets masked; a secret file only says whether it changes).
#[utoipa::path(
    get,
    path = "/api/clusters/{name}/diff",
    operation_id = "clusters_diff",
    tag = "clusters",
    params(
        ("name" = String, Path, description = "Cluster name"),
        ("scenario" = String, Query, description = "The scenario asked about"),
    ),
    responses((status = 200, description = "OK", body = knit_shared::RunDiff))
)]
pub async fn diff(
    State(app): State<App>,
    Deployer(caller): Deployer,
    PathParam(name): PathParam<String>,
    Params(mut params): Params<BTreeMap<String, String>>,
) -> Result<Json<RunDiff>, ApiError> {
    let scenario = params.remove("scenario").unwrap_or_default();
    let request = StartRun {
        params,
        ..StartRun::new(&name, &scenario)
    };
    Ok(Json(
        app.runs
            .diff_request(&request, Some(&caller.actor()))
            .await?,
    ))
}

/// Freezes the cluster: every run start is refused with the message until it is unfrozen
/// (admins, and the cluster's operators).
#[utoipa::path(
    post,
    path = "/api/clusters/{name}/freeze",
    operation_id = "clusters_freeze",
    tag = "clusters",
    params(("name" = String, Path, description = "Cluster name")),
    request_body = knit_shared::FreezeRequest,
    responses((status = 204, description = "Frozen"))
)]
pub async fn freeze(
    State(app): State<App>,
    Deployer(caller): Deployer,
    PathParam(name): PathParam<String>,
    Body(request): Body<FreezeRequest>,
) -> Result<StatusCode, ApiError> {
    let admin = caller.me.role.may(Role::Admin);
    app.runs
        .set_freeze(&name, Some(&request.message), &caller.actor(), admin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unfreezes the cluster (admins, and the cluster's operators).
#[utoipa::path(
    post,
    path = "/api/clusters/{name}/unfreeze",
    operation_id = "clusters_unfreeze",
    tag = "clusters",
    params(("name" = String, Path, description = "Cluster name")),
    responses((status = 204, description = "Unfrozen"))
)]
pub async fn unfreeze(
    State(app): State<App>,
    Deployer(caller): Deployer,
    PathParam(name): PathParam<String>,
) -> Result<StatusCode, ApiError> {
    let admin = caller.me.role.may(Role::Admin);
    app.runs
        .set_freeze(&name, None, &caller.actor(), admin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
