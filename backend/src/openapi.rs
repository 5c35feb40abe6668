//! The API described as OpenAPI 3.1, generated from the handlers' annotations and the shared
//! types, served at `/api/openapi.json` (the console's `/api-docs` page reads it).

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::authentication::SESSION_COOKIE;
use crate::handlers::{
    audit, catalog, clusters, health, instances, regions, runs, schedules, security_groups,
    session, tokens, users, wizard,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "knit",
        description = "A web console for AWS EC2 that deploys software to the machines it \
            launches. Every route but /api/health, POST /api/session and this document needs an \
            account: an API token (Authorization: Bearer) or the console's session cookie. Errors \
            are JSON: {\"error\": \"what to change\", \"code\": \"invalid\"}."
    ),
    paths(
        health::show, document,
        session::log_in, session::me, session::log_out,
        users::list, users::add, users::set_role, users::remove,
        tokens::list, tokens::create, tokens::revoke,
        clusters::list, clusters::changes, clusters::releases, clusters::freeze, clusters::unfreeze, clusters::hosts, clusters::diff, schedules::pause, schedules::resume,
        regions::list, regions::zones, regions::profiles,
        instances::list, instances::act, instances::events, instances::console,
        wizard::launch, wizard::check, wizard::progress, wizard::client_address,
        catalog::images, catalog::quick_start, catalog::instance_types, catalog::key_pairs, catalog::subnets,
        catalog::instance_profiles,
        security_groups::list,
        runs::list, runs::start, runs::show, runs::events, runs::log, runs::cancel, runs::approve,
        runs::reject,
        audit::list,
    ),
    // Types the query parameters refer to, which utoipa does not collect by itself.
    components(schemas(
        knit_shared::ApiErrorBody,
        knit_shared::SortKey,
        knit_shared::SortOrder,
        knit_shared::InstanceState,
        knit_shared::LogFormat,
    )),
    modifiers(&Credentials, &ErrorAnswers),
    security(("token" = []), ("session" = [])),
)]
#[derive(Debug)]
pub struct ApiDocument;

/// The two ways to say who sends a request.
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
        );
    }
}

/// Every operation may answer an error: the same JSON body for all of them, so it is added here
/// once rather than to each handler's annotation.
struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, document: &mut utoipa::openapi::OpenApi) {
        let error = ResponseBuilder::new()
            .description("An error, with a message saying what to change")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ApiErrorBody")))
                    .build(),
            )
            .build();
        for item in document.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                operation
                    .responses
                    .responses
                    .insert("default".to_owned(), error.clone().into());
            }
        }
    }
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "openapi_document",
    tag = "health",
    security(()),
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDocument::openapi())
}
