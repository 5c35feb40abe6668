//! `Body`, `Params` and `PathParam`: axum's `Json`, `Query` and `Path`, but a malformed request gets the same JSON
//! error shape as every other failure; and `Who` sends it.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use knit_shared::ClientAddress;

use crate::error::ApiError;
use crate::store::{Actor, CONSOLE_ACTOR};

#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Params<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathParam<T>(pub T);

/// Who sends the request, for the audit log: the console (until accounts exist), from the
/// address the connection comes from.
#[derive(Debug)]
pub struct Who(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Who {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| ClientAddress::of(peer.ip()).address);
        Ok(Self(Actor {
            name: CONSOLE_ACTOR.to_owned(),
            address,
        }))
    }
}
