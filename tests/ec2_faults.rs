//! EC2 throttling, injected in front of the real SDK client talking to moto: retried with
//! backoff, and a clear 429 once the retries are spent.

use axum::http::StatusCode;
use knit::ec2::Ec2Target;
use knit_shared::{ApiErrorBody, InstanceList};

use crate::harness::{Throttle, app_with, moto_target, send, start_moto};

async fn list_through(throttle: &std::sync::Arc<Throttle>) -> (StatusCode, Vec<u8>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let target = Ec2Target {
        interceptors: vec![throttle.interceptor()],
        ..moto_target(&moto, "us-east-1")
    };
    let app = app_with(dir.path(), target).await;
    let (status, _, body) = send(app, "GET", "/api/instances").await;
    (status, body)
}

#[tokio::test]
async fn throttling_is_retried_with_backoff_until_ec2_answers() {
    let throttle = Throttle::first(2);
    let (status, body) = list_through(&throttle).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let list: InstanceList = serde_json::from_slice(&body).expect("list JSON");
    assert_eq!(list.total, 0);
    assert_eq!(
        throttle.injected(),
        2,
        "both throttled answers were retried"
    );
}

#[tokio::test]
async fn throttling_beyond_the_retries_is_a_clear_429() {
    let throttle = Throttle::first(1000);
    let (status, body) = list_through(&throttle).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let error: ApiErrorBody = serde_json::from_slice(&body).expect("error JSON");
    assert_eq!(error.code, "throttled");
    assert!(
        error.error.contains("RequestLimitExceeded"),
        "{}",
        error.error
    );
    assert_eq!(throttle.injected(), 5, "the SDK tries 5 times in all");
}
