//! The only module that talks to the server. Every call returns a `shared` type or an
//! `ApiFailure` carrying the status and the server's message.

use std::fmt;

use gloo_net::http::{Request, Response};
use knit_shared::{ApiErrorBody, Health};
use serde::de::DeserializeOwned;

/// A failed API call, in words fit to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    /// HTTP status, or `None` when the server could not be reached at all.
    pub status: Option<u16>,
    pub message: String,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} (HTTP {status})", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

pub async fn health() -> Result<Health, ApiFailure> {
    get("/api/health").await
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    let response = Request::get(path)
        .send()
        .await
        .map_err(|error| ApiFailure {
            status: None,
            message: format!("cannot reach the knit server: {error}"),
        })?;
    read(response).await
}

async fn read<T: DeserializeOwned>(response: Response) -> Result<T, ApiFailure> {
    let status = response.status();
    if response.ok() {
        return response.json().await.map_err(|error| ApiFailure {
            status: Some(status),
            message: format!("the server answered something unexpected: {error}"),
        });
    }
    let message = match response.json::<ApiErrorBody>().await {
        Ok(body) => body.error,
        Err(_) => response.status_text(),
    };
    Err(ApiFailure {
        status: Some(status),
        message,
    })
}
