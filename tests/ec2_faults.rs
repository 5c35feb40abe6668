//! EC2's faults, injected in front of the real SDK client talking to moto: throttling retried
//! with backoff and a clear 429 once the retries are spent; new instances that EC2's reads do
//! not show yet waited for.

use std::time::Duration;

use axum::http::StatusCode;
use knit::ec2::Ec2Target;
use knit::ec2::cluster_state::wait_running;
use knit_shared::{ApiErrorBody, InstanceList, InstanceState};

use crate::harness::{InjectedError, app_with, moto_client, moto_target, send, start_moto};

async fn list_through(throttle: &std::sync::Arc<InjectedError>) -> (StatusCode, Vec<u8>) {
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
    let throttle = InjectedError::throttling(2);
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
    let throttle = InjectedError::throttling(1000);
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

#[tokio::test]
async fn new_instances_that_ec2_does_not_know_yet_are_waited_for() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let started = moto_client(&moto, "us-east-1")
        .await
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("instance");
    let id = started.instances()[0].instance_id().expect("id").to_owned();

    // Real EC2's reads lag its writes: the first reads say the new instance does not exist.
    let lagging = InjectedError::unknown_instance(3);
    let target = Ec2Target {
        interceptors: vec![lagging.interceptor()],
        ..moto_target(&moto, "us-east-1")
    };
    let (client, _) = knit::ec2::connect(&target).await;
    let limit = Duration::from_secs(60);
    let ids = [id.clone()];
    let instances = wait_running(&client, &target, &ids, limit)
        .await
        .expect("waited past the unknown answers");
    assert_eq!(lagging.injected(), 3);
    assert_eq!(instances.len(), 1);
    assert_eq!(instances[0].id, id);
    assert_eq!(instances[0].state, InstanceState::Running);

    // Past the limit, the answer is the error.
    let never = InjectedError::unknown_instance(u32::MAX);
    let target = Ec2Target {
        interceptors: vec![never.interceptor()],
        ..moto_target(&moto, "us-east-1")
    };
    let (client, _) = knit::ec2::connect(&target).await;
    let error = wait_running(&client, &target, &ids, Duration::from_secs(1))
        .await
        .expect_err("still unknown after the limit");
    assert!(
        error.to_string().contains("InvalidInstanceID.NotFound"),
        "{error}"
    );
}
