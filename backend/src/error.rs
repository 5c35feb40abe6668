//! `ApiError`: the one error type of the HTTP layer, answered as the shared JSON error body.
//!
//! Domain modules return their own `thiserror` enums; handlers turn them into `ApiError` with `?`.
//! Internal errors are logged in full and answered with a generic message, so no detail of the
//! server (paths, credentials, stack) reaches the browser.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use knit_shared::ApiErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let error = match &self {
            Self::Internal(source) => {
                tracing::error!(error = format!("{source:#}"), "internal error");
                "knit hit an internal error; the server log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let body = ApiErrorBody {
            error,
            code: code.to_owned(),
        };
        (status, Json(body)).into_response()
    }
}
