//! The HTTP application driven without a socket: routes, error shape, and the console fallback.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use knit::ec2::Ec2Target;
use knit_shared::{ApiErrorBody, Health};
use tower::ServiceExt;

use crate::harness::{app_with, send};

/// The application with EC2 at a closed port: these routes never call it.
async fn test_app(dir: &std::path::Path) -> Router {
    let target = Ec2Target {
        endpoint: Some(format!(
            "http://127.0.0.1:{}",
            knit::sandbox::free_port().expect("port")
        )),
        dummy_credentials: true,
        ..Ec2Target::default()
    };
    app_with(dir, target).await
}

#[tokio::test]
async fn health_reports_version_and_region_without_sandbox() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (status, _, body) = send(test_app(dir.path()).await, "GET", "/api/health").await;
    assert_eq!(status, StatusCode::OK);
    let health: Health = serde_json::from_slice(&body).expect("health JSON");
    assert_eq!(health.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(health.sandbox, None);
    assert!(!health.region.is_empty());
}

#[tokio::test]
async fn unknown_api_routes_answer_json_not_the_console() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (status, content_type, body) = send(test_app(dir.path()).await, "GET", "/api/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let error: ApiErrorBody = serde_json::from_slice(&body).expect("error JSON");
    assert_eq!(error.code, "not_found");
    assert!(error.error.contains("/api/nope"), "{}", error.error);
}

#[tokio::test]
async fn a_wrong_method_answers_json_405() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (status, _, body) = send(test_app(dir.path()).await, "DELETE", "/api/health").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let error: ApiErrorBody = serde_json::from_slice(&body).expect("error JSON");
    assert_eq!(error.code, "method_not_allowed");
}

#[tokio::test]
async fn console_routes_fall_back_to_index_html() {
    let dir = tempfile::tempdir().expect("temp dir");
    for path in ["/", "/instances", "/clusters/sandbox.demo"] {
        let (status, content_type, body) = send(test_app(dir.path()).await, "GET", path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            content_type.unwrap_or_default().starts_with("text/html"),
            "{path}"
        );
        assert!(
            String::from_utf8_lossy(&body).contains("<title>knit</title>"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_malformed_query_answers_json_400() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = test_app(dir.path()).await;
    let (status, _, body) = send(app, "GET", "/api/instances?state=sleeping").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error: ApiErrorBody = serde_json::from_slice(&body).expect("error JSON");
    assert_eq!(error.code, "invalid");
    assert!(error.error.contains("sleeping"), "{}", error.error);
}

#[tokio::test]
async fn a_malformed_region_is_refused_before_ec2_is_asked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = test_app(dir.path()).await;
    let (status, _, body) = send(app, "GET", "/api/instances?region=../etc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error: ApiErrorBody = serde_json::from_slice(&body).expect("error JSON");
    assert!(error.error.contains("not a region name"), "{}", error.error);
}

#[tokio::test]
async fn a_malformed_security_group_id_answers_json_400() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = test_app(dir.path()).await;
    let (status, _, body) = send(app, "GET", "/api/security-groups?ids=sg-1,web").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error: ApiErrorBody = serde_json::from_slice(&body).expect("error JSON");
    assert!(
        error.error.contains("not a security group id"),
        "{}",
        error.error
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let dir = tempfile::tempdir().expect("temp dir");
    for path in ["/api/health", "/instances"] {
        let request = Request::builder()
            .uri(path)
            .body(Body::empty())
            .expect("request");
        let response = test_app(dir.path())
            .await
            .oneshot(request)
            .await
            .expect("response");
        let headers = response.headers();
        let policy = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("text");
        assert!(
            policy.contains("'wasm-unsafe-eval'") && policy.contains("frame-ancestors 'none'"),
            "{policy}"
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    }
}

#[tokio::test]
async fn the_openapi_document_promises_a_json_error_from_every_operation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (status, _, body) = send(test_app(dir.path()).await, "GET", "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let document: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.len() > 25, "{paths:?}");
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().expect("operations") {
            let error = &operation["responses"]["default"]["content"]["application/json"];
            assert_eq!(
                error["schema"]["$ref"], "#/components/schemas/ApiErrorBody",
                "{method} {path}"
            );
        }
    }
    assert!(document["components"]["schemas"]["ApiErrorBody"].is_object());
}
