//! `/api/users`: accounts, managed by admins.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use knit_shared::{NewUser, RoleChange, UserList};

use super::extract::{Admin, Body, PathParam};
use crate::app::App;
use crate::error::ApiError;

/// Every account and its role (admins).
#[utoipa::path(
    get,
    path = "/api/users",
    operation_id = "users_list",
    tag = "accounts",
    responses((status = 200, description = "OK", body = knit_shared::UserList))
)]
pub async fn list(State(app): State<App>, _: Admin) -> Result<Json<UserList>, ApiError> {
    Ok(Json(UserList {
        users: app.store.users().await?,
    }))
}

/// Creates an account (admins).
#[utoipa::path(
    post,
    path = "/api/users",
    operation_id = "users_add",
    tag = "accounts",
    request_body = knit_shared::NewUser,
    responses((status = 201, description = "Created"))
)]
pub async fn add(
    State(app): State<App>,
    Admin(caller): Admin,
    Body(user): Body<NewUser>,
) -> Result<StatusCode, ApiError> {
    app.accounts.add_user(&caller.actor(), &user).await?;
    Ok(StatusCode::CREATED)
}

/// Changes an account's role (admins); the last admin stays one.
#[utoipa::path(
    put,
    path = "/api/users/{name}/role",
    operation_id = "users_set_role",
    tag = "accounts",
    request_body = knit_shared::RoleChange,
    params(("name" = String, Path, description = "Account name")),
    responses((status = 204, description = "Changed"))
)]
pub async fn set_role(
    State(app): State<App>,
    Admin(caller): Admin,
    PathParam(name): PathParam<String>,
    Body(change): Body<RoleChange>,
) -> Result<StatusCode, ApiError> {
    app.accounts
        .set_role(&caller.actor(), &name, change.role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an account with its sessions and tokens (admins).
#[utoipa::path(
    delete,
    path = "/api/users/{name}",
    operation_id = "users_remove",
    tag = "accounts",
    params(("name" = String, Path, description = "Account name")),
    responses((status = 204, description = "Removed"))
)]
pub async fn remove(
    State(app): State<App>,
    Admin(caller): Admin,
    PathParam(name): PathParam<String>,
) -> Result<StatusCode, ApiError> {
    app.accounts.remove_user(&caller.actor(), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
