//! Who sends each API request, and whether a browser's change really comes from the console.
//!
//! A request proves who it is with an API token (`Authorization: Bearer`) or a session cookie.
//! Changes sent with a cookie must come from the console's own origin: the cookie is
//! `SameSite=Strict`, and the `Origin` check also stops a page of another site on the same host.
//! Token requests carry no cookie, so no other site can make a browser send them.

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use knit_shared::Me;

use crate::accounts::Credential;
use crate::app::App;
use crate::error::ApiError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "knit_session";

/// Put in a request's extensions when its credential names an account.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub me: Me,
    /// The session's secret, when signed in by cookie (to sign out).
    pub session: Option<String>,
    /// The API token's secret, when the request sent one.
    pub token: Option<String>,
}

/// Names the account behind the request, if any, and refuses cross-site changes.
pub async fn authenticate(
    State(app): State<App>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let headers = request.headers();
    let signed_in = if let Some(token) = bearer(headers) {
        let me = app
            .accounts
            .identify(Credential::Token(token))
            .await?
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "this API token is unknown, has expired or was revoked".to_owned(),
                )
            })?;
        Some(SignedIn {
            me,
            session: None,
            token: Some(token.to_owned()),
        })
    } else {
        let session = cookie(headers, SESSION_COOKIE);
        if changes_state(request.method()) {
            from_this_console(headers, session.is_some())?;
        }
        match session {
            Some(secret) => app
                .accounts
                .identify(Credential::Session(secret))
                .await?
                .map(|me| SignedIn {
                    me,
                    session: Some(secret.to_owned()),
                    token: None,
                }),
            None => None,
        }
    };
    if let Some(signed_in) = signed_in {
        request.extensions_mut().insert(signed_in);
    }
    Ok(next.run(request).await)
}

/// Refuses anyone not signed in: every API route but the public ones is behind this.
pub async fn require_sign_in(request: Request, next: Next) -> Result<Response, ApiError> {
    if request.extensions().get::<SignedIn>().is_none() {
        let message = if cookie(request.headers(), SESSION_COOKIE).is_some() {
            "your session has ended; sign in again"
        } else {
            "sign in first, or send an API token as Authorization: Bearer <token>"
        };
        return Err(ApiError::Unauthorized(message.to_owned()));
    }
    Ok(next.run(request).await)
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A change with an `Origin` must come from this console's origin; a change with a session
/// cookie must say where it comes from (browsers send `Origin` or `Sec-Fetch-Site`).
fn from_this_console(headers: &HeaderMap, with_cookie: bool) -> Result<(), ApiError> {
    let host = headers.get(HOST).and_then(|host| host.to_str().ok());
    match headers.get(ORIGIN).map(HeaderValue::to_str) {
        Some(Ok(origin)) if host.is_some_and(|host| origin_host(origin) == Some(host)) => Ok(()),
        Some(origin) => Err(ApiError::Forbidden(format!(
            "a change sent from another site ({}) is refused; use the console itself, or an API \
             token from a script",
            origin.unwrap_or("an unreadable origin")
        ))),
        None if !with_cookie => Ok(()),
        None if headers
            .get("sec-fetch-site")
            .is_some_and(|site| site == "same-origin") =>
        {
            Ok(())
        }
        None => Err(ApiError::Forbidden(
            "a change sent with a session cookie must say where it comes from (Origin); scripts \
             use an API token instead"
                .to_owned(),
        )),
    }
}

/// `host[:port]` of an `http://` or `https://` origin.
fn origin_host(origin: &str) -> Option<&str> {
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    axum::http::HeaderName::from_static(name),
                    HeaderValue::from_str(value).expect("header value"),
                )
            })
            .collect()
    }

    #[test]
    fn only_changes_from_this_console_pass_with_a_cookie() {
        let host = ("host", "knit.example:8080");
        assert!(
            from_this_console(
                &headers(&[host, ("origin", "http://knit.example:8080")]),
                true
            )
            .is_ok()
        );
        assert!(
            from_this_console(
                &headers(&[host, ("origin", "https://knit.example:8080")]),
                true
            )
            .is_ok()
        );
        assert!(
            from_this_console(&headers(&[host, ("origin", "http://evil.example")]), true).is_err()
        );
        assert!(from_this_console(&headers(&[host, ("origin", "null")]), false).is_err());
        assert!(
            from_this_console(&headers(&[host, ("sec-fetch-site", "same-origin")]), true).is_ok()
        );
        assert!(
            from_this_console(&headers(&[host, ("sec-fetch-site", "cross-site")]), true).is_err()
        );
        assert!(from_this_console(&headers(&[host]), true).is_err());
        assert!(from_this_console(&headers(&[host]), false).is_ok());
    }

    #[test]
    fn credentials_are_read_from_their_headers() {
        let with = headers(&[
            ("authorization", "Bearer knit_abc"),
            ("cookie", "theme=dark; knit_session=s3cret"),
        ]);
        assert_eq!(bearer(&with), Some("knit_abc"));
        assert_eq!(cookie(&with, SESSION_COOKIE), Some("s3cret"));
        assert_eq!(bearer(&headers(&[("authorization", "Basic eDp5")])), None);
        assert_eq!(
            cookie(&headers(&[("cookie", "knit_sessionx=1")]), SESSION_COOKIE),
            None
        );
    }
}
