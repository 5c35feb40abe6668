//! Extractors. `Body`, `Params` and `PathParam`: axum's `Json`, `Query` and `Path`, but a
//! malformed request gets the same JSON error shape as every other failure. `Caller`,
//! `Deployer` and `Admin`: who sends the request, refused unless their role allows the route.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, OriginalUri};
use axum::http::Method;
use axum::http::request::Parts;
use knit_shared::{ClientAddress, Me, Role};

use crate::accounts::{Accounts, Credential};
use crate::app::App;
use crate::authentication::SignedIn;
use crate::error::ApiError;
use crate::store::{Actor, Store};

#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Params<T>(pub T);

#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathParam<T>(pub T);

/// The address the request's connection comes from, as the audit log and the sign-in limits
/// name it; none when the server was not told (requests sent in-process, in tests).
#[derive(Debug, Clone)]
pub struct Address(pub Option<String>);

impl Address {
    fn of(parts: &Parts) -> Self {
        Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| ClientAddress::of(peer.ip()).address),
        )
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Address {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

/// The signed-in account that sends the request, and the address it comes from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub me: Me,
    pub address: Option<String>,
    /// The session's secret, when the request comes from a signed-in browser.
    pub session: Option<String>,
    /// The API token's secret, when the request comes with one.
    pub token: Option<String>,
    /// What was asked, e.g. `POST /api/runs`, as a refusal is audited.
    request: String,
    /// Whether the request would change anything (not GET or HEAD).
    changes: bool,
}

impl Caller {
    /// Who this is, for the audit log.
    pub fn actor(&self) -> Actor {
        Actor {
            name: self.me.name.clone(),
            address: self.address.clone(),
        }
    }

    /// Ends once the credential this request came with signs no one in any more: a live feed
    /// ends with it (a revoked token, a session signed out or expired).
    pub fn signed_out(
        &self,
        accounts: &Arc<Accounts>,
    ) -> impl Future<Output = ()> + Send + 'static + use<> {
        let accounts = Arc::clone(accounts);
        let (session, token) = (self.session.clone(), self.token.clone());
        async move {
            match (session, token) {
                (Some(session), _) => accounts.signed_out(Credential::Session(&session)).await,
                (None, Some(token)) => accounts.signed_out(Credential::Token(&token)).await,
                (None, None) => std::future::pending().await,
            }
        }
    }

    /// Refuses unless the caller's role may do what `needed` may; `what` names the action.
    /// A refused change is audited.
    pub async fn require(&self, store: &Store, needed: Role, what: &str) -> Result<(), ApiError> {
        if self.me.role.may(needed) {
            return Ok(());
        }
        if self.changes {
            let outcome = format!("refused: needs the {needed} role");
            store
                .record(
                    &self
                        .actor()
                        .did("access.refused", self.request.clone(), outcome),
                )
                .await?;
        }
        Err(ApiError::Forbidden(format!(
            "{what} needs the {needed} role; {} is a {}: ask an admin",
            self.me.name, self.me.role
        )))
    }

    fn of(parts: &Parts) -> Result<Self, ApiError> {
        let signed_in = parts.extensions.get::<SignedIn>().ok_or_else(|| {
            ApiError::Unauthorized("sign in first: this needs an account".to_owned())
        })?;
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.path().to_owned(), |uri| uri.path().to_owned());
        Ok(Self {
            me: signed_in.me.clone(),
            address: Address::of(parts).0,
            session: signed_in.session.clone(),
            token: signed_in.token.clone(),
            request: format!("{} {path}", parts.method),
            changes: !matches!(parts.method, Method::GET | Method::HEAD),
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::of(parts)
    }
}

/// A caller whose role is at least `$role`; anyone else is refused with 403.
macro_rules! role_gate {
    ($(#[$doc:meta])* $name:ident, $role:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(pub Caller);

        impl FromRequestParts<App> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(
                parts: &mut Parts,
                app: &App,
            ) -> Result<Self, Self::Rejection> {
                let caller = Caller::of(parts)?;
                caller.require(&app.store, $role, $what).await?;
                Ok(Self(caller))
            }
        }
    };
}

role_gate!(
    /// May run scenarios and start, stop and reboot instances.
    Deployer,
    Role::Deployer,
    "this change"
);
role_gate!(
    /// May launch, terminate, change security groups and manage accounts.
    Admin,
    Role::Admin,
    "this"
);
