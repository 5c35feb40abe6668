//! `/api/session`: sign in (a session cookie), who is signed in, sign out.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use knit_shared::{LogIn, Me};

use super::extract::{Address, Body, Caller};
use crate::app::App;
use crate::authentication::SESSION_COOKIE;
use crate::error::ApiError;

/// Signs in with an account's name and password: sets the session cookie.
#[utoipa::path(
    post,
    path = "/api/session",
    security(()),
    operation_id = "session_log_in",
    tag = "accounts",
    request_body = knit_shared::LogIn,
    responses((status = 200, description = "Signed in; the session cookie is set", body = knit_shared::Me))
)]
pub async fn log_in(
    State(app): State<App>,
    Address(address): Address,
    headers: HeaderMap,
    Body(form): Body<LogIn>,
) -> Result<impl IntoResponse, ApiError> {
    let session = app.accounts.log_in(&form, address.as_deref()).await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        session.secret,
        session.lifetime.as_secs(),
        if over_https(&headers) { "; Secure" } else { "" }
    );
    Ok((AppendHeaders([(SET_COOKIE, cookie)]), Json(session.me)))
}

/// Who is signed in, and their role.
#[utoipa::path(
    get,
    path = "/api/session",
    operation_id = "session_me",
    tag = "accounts",
    responses((status = 200, description = "OK", body = knit_shared::Me))
)]
pub async fn me(caller: Caller) -> Json<Me> {
    Json(caller.me)
}

/// Signs out: the session ends on the server.
#[utoipa::path(
    delete,
    path = "/api/session",
    operation_id = "session_log_out",
    tag = "accounts",
    responses((status = 204, description = "Signed out"))
)]
pub async fn log_out(
    State(app): State<App>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(secret) = &caller.session {
        app.accounts.log_out(&caller.actor(), secret).await?;
    }
    let expired = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((
        StatusCode::NO_CONTENT,
        AppendHeaders([(SET_COOKIE, expired)]),
    ))
}

/// Whether the browser reached knit over https through a proxy that terminates TLS: then the
/// cookie is never sent over plain http.
fn over_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"))
}
