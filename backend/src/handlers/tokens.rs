//! `/api/tokens`: API tokens for scripts. Anyone signed in makes their own; an admin sees and
//! revokes everyone's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use knit_shared::{CreatedToken, NewToken, TokenList};

use super::extract::{Body, Caller, PathParam};
use crate::app::App;
use crate::error::ApiError;

/// API tokens, never their secrets: an admin's list has everyone's.
#[utoipa::path(
    get,
    path = "/api/tokens",
    operation_id = "tokens_list",
    tag = "accounts",
    responses((status = 200, description = "OK", body = knit_shared::TokenList))
)]
pub async fn list(State(app): State<App>, caller: Caller) -> Result<Json<TokenList>, ApiError> {
    Ok(Json(app.accounts.tokens(&caller.me).await?))
}

/// Creates an API token acting as the caller for `expires_in_days` (90 by default); its secret
/// is in this answer only. From a browser's session, the account's password is needed again;
/// with an API token, the new one expires no later than it.
#[utoipa::path(
    post,
    path = "/api/tokens",
    operation_id = "tokens_create",
    tag = "accounts",
    request_body = knit_shared::NewToken,
    responses((status = 201, description = "Created; the token is shown only now", body = knit_shared::CreatedToken))
)]
pub async fn create(
    State(app): State<App>,
    caller: Caller,
    Body(token): Body<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let actor = caller.actor();
    let created = match (&caller.session, &caller.token) {
        (Some(_), _) => {
            app.accounts
                .create_token_in_session(&actor, &caller.me, &token)
                .await?
        }
        (None, Some(minting)) => {
            app.accounts
                .create_token_by_token(&actor, &caller.me.name, minting, &token)
                .await?
        }
        (None, None) => {
            let days = token.expires_in_days;
            app.accounts
                .create_token(&actor, &caller.me.name, &token.label, days)
                .await?
        }
    };
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an API token: its owner or an admin may.
#[utoipa::path(
    delete,
    path = "/api/tokens/{id}",
    operation_id = "tokens_revoke",
    tag = "accounts",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"))
)]
pub async fn revoke(
    State(app): State<App>,
    caller: Caller,
    PathParam(id): PathParam<i64>,
) -> Result<StatusCode, ApiError> {
    app.accounts
        .revoke_token(&caller.actor(), Some(&caller.me), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
