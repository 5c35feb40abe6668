//! Every route of the server, in one table.

use axum::Router;
use axum::extract::OriginalUri;
use axum::http::Method;
use axum::middleware;
use axum::routing::{delete, get, post, put};
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::error::ApiError;
use crate::handlers::{
    audit, catalog, clusters, health, instances, launch, regions, runs, security_groups, session,
    tokens, users,
};
use crate::{authentication, openapi, security_headers};

/// The whole application: the JSON API under `/api`, and the single-page console everywhere else.
pub fn router(app: App) -> Router {
    let web_dir = app.settings.web_dir.clone();
    // Every route needs a signed-in account unless it is in `public`; handlers refuse roles
    // below theirs (`Deployer`, `Admin`).
    let public = Router::new()
        .route("/health", get(health::show))
        .route("/session", post(session::log_in))
        .route("/openapi.json", get(openapi::document));
    let signed_in = Router::new()
        .route("/session", get(session::me).delete(session::log_out))
        .route("/users", get(users::list).post(users::add))
        .route("/users/{name}", delete(users::remove))
        .route("/users/{name}/role", put(users::set_role))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::revoke))
        .route("/clusters", get(clusters::list))
        .route("/clusters/{name}/plan", get(clusters::plan))
        .route("/regions", get(regions::list))
        .route("/zones", get(regions::zones))
        .route("/profiles", get(regions::profiles))
        .route("/instances", get(instances::list))
        .route("/instances/actions", post(instances::act))
        .route("/instances/events", get(instances::events))
        .route("/launch", post(launch::launch))
        .route("/launch/check", post(launch::check))
        .route("/launch/progress", get(launch::progress))
        .route("/client-address", get(launch::client_address))
        .route("/images", get(catalog::images))
        .route("/instance-types", get(catalog::instance_types))
        .route("/key-pairs", get(catalog::key_pairs))
        .route("/subnets", get(catalog::subnets))
        .route("/instance-profiles", get(catalog::instance_profiles))
        .route("/security-groups", get(security_groups::list))
        .route("/runs", get(runs::list).post(runs::start))
        .route("/audit", get(audit::list))
        .route("/runs/{id}", get(runs::show))
        .route("/runs/{id}/events", get(runs::events))
        .route("/runs/{id}/cancel", post(runs::cancel))
        .route_layer(middleware::from_fn(authentication::require_sign_in));
    let api = public
        .merge(signed_in)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            authentication::authenticate,
        ))
        .fallback(no_such_route)
        .method_not_allowed_fallback(method_not_allowed);

    // Paths that are not files are the SPA's own routes (e.g. /instances): answer with index.html.
    let console = ServeDir::new(&web_dir).fallback(ServeFile::new(web_dir.join("index.html")));

    let index = std::fs::read_to_string(web_dir.join("index.html")).unwrap_or_default();
    let mut router = Router::new().nest("/api", api).fallback_service(console);
    for (name, value) in security_headers::headers(&index) {
        router = router.layer(SetResponseHeaderLayer::overriding(name, value));
    }
    router
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

async fn no_such_route(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NotFound(format!("no API route for {method} {uri}"))
}

async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{uri} does not accept {method}"))
}
