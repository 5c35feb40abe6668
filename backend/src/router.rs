//! Every route of the server, in one table.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::OriginalUri;
use axum::http::Method;
use axum::middleware;
use axum::routing::{MethodFilter, MethodRouter, on};
use tower_http::compression::CompressionLayer;

use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::error::ApiError;
use crate::handlers::{
    audit, catalog, clusters, health, instances, metrics, regions, runs, schedules,
    security_groups, session, tokens, users, wizard,
};
use crate::web::WebConsole;
use crate::{authentication, body_limit, openapi, security_headers};

/// Who may reach a route at all; handlers refuse roles below theirs (`Deployer`, `Admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Public,
    SignedIn,
}

/// One route of the API: its method and its path below `/api`, and who may reach it.
macro_rules! route {
    ($access:ident, $method:ident, $path:literal, $handler:expr) => {
        (
            Access::$access,
            Method::$method,
            $path,
            on(MethodFilter::$method, $handler),
        )
    };
}

/// Every route of the API, in one table.
fn api_table() -> Vec<(Access, Method, &'static str, MethodRouter<App>)> {
    vec![
        route!(Public, GET, "/health", health::show),
        route!(Public, POST, "/session", session::log_in),
        route!(Public, GET, "/openapi.json", openapi::document),
        route!(SignedIn, GET, "/session", session::me),
        route!(SignedIn, DELETE, "/session", session::log_out),
        route!(SignedIn, GET, "/users", users::list),
        route!(SignedIn, POST, "/users", users::add),
        route!(SignedIn, DELETE, "/users/{name}", users::remove),
        route!(SignedIn, PUT, "/users/{name}/role", users::set_role),
        route!(SignedIn, GET, "/tokens", tokens::list),
        route!(SignedIn, POST, "/tokens", tokens::create),
        route!(SignedIn, DELETE, "/tokens/{id}", tokens::revoke),
        route!(SignedIn, GET, "/clusters", clusters::list),
        route!(SignedIn, GET, "/clusters/{name}/changes", clusters::changes),
        route!(
            SignedIn,
            GET,
            "/clusters/{name}/releases",
            clusters::releases
        ),
        route!(SignedIn, GET, "/clusters/{name}/hosts", clusters::hosts),
        route!(SignedIn, GET, "/clusters/{name}/diff", clusters::diff),
        route!(
            SignedIn,
            POST,
            "/clusters/{name}/schedules/{scenario}/pause",
            schedules::pause
        ),
        route!(
            SignedIn,
            POST,
            "/clusters/{name}/schedules/{scenario}/resume",
            schedules::resume
        ),
        route!(SignedIn, POST, "/clusters/{name}/freeze", clusters::freeze),
        route!(
            SignedIn,
            POST,
            "/clusters/{name}/unfreeze",
            clusters::unfreeze
        ),
        route!(SignedIn, GET, "/regions", regions::list),
        route!(SignedIn, GET, "/zones", regions::zones),
        route!(SignedIn, GET, "/profiles", regions::profiles),
        route!(SignedIn, GET, "/instances", instances::list),
        route!(SignedIn, POST, "/instances/actions", instances::act),
        route!(SignedIn, GET, "/instances/events", instances::events),
        route!(SignedIn, GET, "/instances/{id}/console", instances::console),
        route!(SignedIn, POST, "/wizard/launch", wizard::launch),
        route!(SignedIn, POST, "/wizard/check", wizard::check),
        route!(SignedIn, GET, "/wizard/progress", wizard::progress),
        route!(SignedIn, GET, "/client-address", wizard::client_address),
        route!(SignedIn, GET, "/images", catalog::images),
        route!(SignedIn, GET, "/images/quick-start", catalog::quick_start),
        route!(SignedIn, GET, "/instance-types", catalog::instance_types),
        route!(SignedIn, GET, "/key-pairs", catalog::key_pairs),
        route!(SignedIn, GET, "/subnets", catalog::subnets),
        route!(
            SignedIn,
            GET,
            "/instance-profiles",
            catalog::instance_profiles
        ),
        route!(SignedIn, GET, "/security-groups", security_groups::list),
        route!(SignedIn, GET, "/runs", runs::list),
        route!(SignedIn, POST, "/runs", runs::start),
        route!(SignedIn, GET, "/audit", audit::list),
        route!(SignedIn, GET, "/runs/{id}", runs::show),
        route!(SignedIn, GET, "/runs/{id}/events", runs::events),
        route!(SignedIn, GET, "/runs/{id}/log", runs::log),
        route!(SignedIn, POST, "/runs/{id}/cancel", runs::cancel),
        route!(SignedIn, POST, "/runs/{id}/approve", runs::approve),
        route!(SignedIn, POST, "/runs/{id}/reject", runs::reject),
    ]
}

/// Every route the API answers, as `(method, /api/path)`: the OpenAPI document must describe
/// each of them.
pub fn api_routes() -> Vec<(Method, String)> {
    api_table()
        .into_iter()
        .map(|(_, method, path, _)| (method, format!("/api{path}")))
        .collect()
}

/// The routes with `access`, the methods of one path merged.
fn routes_with(access: Access) -> Router<App> {
    let mut by_path: BTreeMap<&str, MethodRouter<App>> = BTreeMap::new();
    for (_, _, path, handler) in api_table().into_iter().filter(|route| route.0 == access) {
        let merged = by_path.remove(path).unwrap_or_default().merge(handler);
        by_path.insert(path, merged);
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
}

/// The whole application: the JSON API under `/api`, and the single-page console everywhere else.
pub fn router(app: App) -> Router {
    let console = WebConsole::choose(app.settings.web_dir.as_deref());
    let public = routes_with(Access::Public);
    let signed_in = routes_with(Access::SignedIn)
        .route_layer(middleware::from_fn(authentication::require_sign_in));
    let api = public
        .merge(signed_in)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            authentication::authenticate,
        ))
        .layer(middleware::from_fn(body_limit::limit_body))
        .fallback(no_such_route)
        .method_not_allowed_fallback(method_not_allowed);

    // Prometheus scrapes here with an API token.
    let scrape = Router::new()
        .route("/metrics", axum::routing::get(metrics::scrape))
        .route_layer(middleware::from_fn(authentication::require_sign_in))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            authentication::authenticate,
        ));

    let mut router = console.serve(Router::new().nest("/api", api).merge(scrape));
    for (name, value) in security_headers::headers(&console.pages()) {
        router = router.layer(SetResponseHeaderLayer::overriding(name, value));
    }
    router
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

/// `/metrics` alone, for anyone who reaches it: the `--metrics-listen` address.
pub fn metrics_router(app: App) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(metrics::scrape))
        .with_state(app)
}

async fn no_such_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NotFound(format!("no API route for {method} {uri}"))
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{uri} does not accept {method}"))
}
