//! Request bodies are bounded: most routes take a few fields, the wizard's launch also its user
//! data.
//! A larger body is answered 413 with the JSON error, after reading and dropping a bounded
//! amount more, so that a client still sending receives the answer rather than a reset
//! connection (a server that closes a socket with unread bytes resets it).

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use futures_util::StreamExt;

use crate::error::ApiError;

/// The most most routes take.
const BODY_LIMIT: usize = 16 * 1024;
/// The wizard's user data has up to 16 KiB of text, which JSON's escapes may make several times
/// more.
const WIZARD_BODY_LIMIT: usize = 256 * 1024;
/// How much of a body over its limit is read before the connection is closed instead.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;
/// How long a body may take to arrive.
const BODY_TIME: Duration = Duration::from_secs(30);

/// The most `path` (below `/api`) takes.
fn limit_of(path: &str) -> usize {
    if path.starts_with("/wizard/") {
        WIZARD_BODY_LIMIT
    } else {
        BODY_LIMIT
    }
}

/// Reads the request's body, refusing it when it is over its route's limit or too slow.
pub async fn limit_body(request: Request, next: Next) -> Result<Response, ApiError> {
    let limit = limit_of(request.uri().path());
    let (parts, body) = request.into_parts();
    let mut chunks = body.into_data_stream();
    let deadline = tokio::time::Instant::now() + BODY_TIME;
    let mut kept = Vec::new();
    let mut total = 0;
    loop {
        let next_chunk = tokio::time::timeout_at(deadline, chunks.next()).await;
        let Ok(next_chunk) = next_chunk else {
            return Err(ApiError::Invalid(format!(
                "the request body did not arrive within {} s",
                BODY_TIME.as_secs()
            )));
        };
        let Some(chunk) = next_chunk else { break };
        let chunk = chunk
            .map_err(|error| ApiError::Invalid(format!("cannot read the request body: {error}")))?;
        total += chunk.len();
        if total <= limit {
            kept.extend_from_slice(&chunk);
        } else if total > limit + DRAIN_LIMIT {
            break;
        }
    }
    if total > limit {
        return Err(ApiError::TooLarge(format!(
            "the request body has more than {limit} bytes, the most this route takes"
        )));
    }
    Ok(next.run(Request::from_parts(parts, Body::from(kept))).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wizard_may_send_more_than_other_routes() {
        assert_eq!(limit_of("/wizard/launch"), WIZARD_BODY_LIMIT);
        assert_eq!(limit_of("/wizard/check"), WIZARD_BODY_LIMIT);
        assert_eq!(limit_of("/session"), BODY_LIMIT);
        assert_eq!(limit_of("/runs"), BODY_LIMIT);
    }
}
