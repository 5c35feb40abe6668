//! `/api/instances` against moto through the real SDK: listing, paging, filters, the cache,
//! actions, protection, the live feed, and an instance's system log.

use std::collections::BTreeSet;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use knit::store::Store;
use knit_shared::{
    ActionRequest, ActionResponse, ApiErrorBody, ConsoleOutput, InstanceAction, InstanceChanges,
    InstanceList, InstanceState,
};
use reqwest::StatusCode;

use crate::harness::{EventReader, KnitServer, dummy_web_dir, moto_client, start_moto};

/// An AMI moto ships in us-east-1.
const AMI: &str = "ami-12c6146b";

/// Launches `count` instances in one reservation, tagged Name=`name` and Role=`role`.
async fn launch(ec2: &Client, name: &str, role: &str, count: i32) -> Vec<String> {
    let tags = TagSpecification::builder()
        .resource_type(ResourceType::Instance)
        .tags(Tag::builder().key("Name").value(name).build())
        .tags(Tag::builder().key("Role").value(role).build())
        .build();
    let answer = ec2
        .run_instances()
        .image_id(AMI)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(count)
        .max_count(count)
        .tag_specifications(tags)
        .send()
        .await
        .expect("moto runs the instances");
    answer
        .instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect()
}

fn start_knit(dir: &std::path::Path, moto: &str) -> KnitServer {
    let web = dummy_web_dir(dir);
    KnitServer::start(
        &dir.join("data"),
        &[
            "--ec2-endpoint",
            moto,
            "--region",
            "us-east-1",
            "--ec2-page-size",
            "5",
            "--web-dir",
            web.to_str().expect("utf-8"),
        ],
    )
}

async fn list(server: &KnitServer, query: &str) -> InstanceList {
    let response = server
        .get(&format!("/instances?{query}"))
        .await
        .expect("list answers");
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    response.json().await.expect("list JSON")
}

fn ids(list: &InstanceList) -> BTreeSet<String> {
    list.instances.iter().map(|i| i.id.clone()).collect()
}

async fn post_action(server: &KnitServer, request: &ActionRequest) -> reqwest::Response {
    server
        .client()
        .post(server.api("/instances/actions"))
        .json(request)
        .send()
        .await
        .expect("action answers")
}

fn action(action: InstanceAction, ids: &[&String]) -> ActionRequest {
    ActionRequest {
        profile: None,
        region: None,
        action,
        instance_ids: ids.iter().map(|id| (*id).clone()).collect(),
        confirm: Vec::new(),
    }
}

#[tokio::test]
async fn the_list_pages_through_ec2_filters_sorts_and_caches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let east = moto_client(&moto, "us-east-1").await;
    let west = moto_client(&moto, "eu-west-1").await;
    let mut web = BTreeSet::new();
    // Twelve reservations: moto pages by reservation, so pages of 5 need three calls.
    for n in 0..12 {
        web.extend(launch(&east, &format!("web-{n:02}"), "web", 1).await);
    }
    let db: BTreeSet<String> = launch(&east, "db", "db", 3).await.into_iter().collect();
    let far: BTreeSet<String> = launch(&west, "far", "web", 2).await.into_iter().collect();
    let server = start_knit(dir.path(), &moto.endpoint());

    let all = list(&server, "region=us-east-1").await;
    assert_eq!(all.total, 15);
    assert_eq!(ids(&all), web.union(&db).cloned().collect());
    assert!(
        all.instances
            .iter()
            .all(|i| i.state == InstanceState::Running)
    );
    let one = all
        .instances
        .iter()
        .find(|i| db.contains(&i.id))
        .expect("a db instance");
    assert_eq!(one.name.as_deref(), Some("db"));
    assert_eq!(one.tags.get("Role").map(String::as_str), Some("db"));
    assert_eq!(one.instance_type, "t3.micro");
    assert_eq!(one.image_id.as_deref(), Some(AMI));
    assert!(one.private_ip.is_some() && one.launch_time.is_some());

    assert_eq!(ids(&list(&server, "region=eu-west-1").await), far);
    let zones: knit_shared::Zones = server
        .get("/zones?region=eu-west-1")
        .await
        .expect("zones")
        .json()
        .await
        .expect("zones JSON");
    assert!(zones.zones.contains(&"eu-west-1a".to_owned()), "{zones:?}");
    assert!(zones.zones.iter().all(|zone| zone.starts_with("eu-west-1")));
    assert_eq!(ids(&list(&server, "tag=Role%3Ddb").await), db);
    assert_eq!(ids(&list(&server, "q=WEB-0").await).len(), 10);
    let sorted = list(&server, "sort=name&order=desc&q=web").await;
    let names: Vec<&str> = sorted
        .instances
        .iter()
        .filter_map(|i| i.name.as_deref())
        .collect();
    assert_eq!(names.first(), Some(&"web-11"));
    assert_eq!(names.last(), Some(&"web-00"));

    // A list is served from the cache until a refresh is asked for.
    let late = launch(&east, "late", "web", 1).await;
    assert_eq!(list(&server, "").await.total, 15);
    let fresh = list(&server, "refresh=true").await;
    assert_eq!(fresh.total, 16);
    assert!(ids(&fresh).contains(&late[0]));

    let unknown = server
        .get("/instances?region=xx-nowhere-9")
        .await
        .expect("answers");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let error: ApiErrorBody = unknown.json().await.expect("error JSON");
    assert!(
        error.error.contains("not one of this account's regions"),
        "{}",
        error.error
    );
    server.stop();
}

#[tokio::test]
async fn actions_change_state_report_per_instance_and_respect_protection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let east = moto_client(&moto, "us-east-1").await;
    let launched = launch(&east, "app", "app", 3).await;
    let (a, b, c) = (&launched[0], &launched[1], &launched[2]);
    let server = start_knit(dir.path(), &moto.endpoint());

    let stopped: ActionResponse = post_action(&server, &action(InstanceAction::Stop, &[a, b]))
        .await
        .json()
        .await
        .expect("outcomes");
    assert!(stopped.outcomes.iter().all(|o| o.ok), "{stopped:?}");
    // The action forgets the cached list: no refresh needed to see its effect.
    let now = list(&server, "state=stopped").await;
    assert_eq!(ids(&now), BTreeSet::from([a.clone(), b.clone()]));

    let started: ActionResponse = post_action(&server, &action(InstanceAction::Start, &[a]))
        .await
        .json()
        .await
        .expect("outcomes");
    assert!(started.outcomes[0].ok);
    let rebooted = post_action(&server, &action(InstanceAction::Reboot, &[c])).await;
    assert_eq!(rebooted.status(), StatusCode::OK);

    // Protect c, then terminate c, an unknown instance and b together.
    let protect = post_action(&server, &action(InstanceAction::Protect, &[c])).await;
    assert_eq!(protect.status(), StatusCode::OK);
    let ghost = "i-0000000000000dead".to_owned();
    let mut terminate = action(InstanceAction::Terminate, &[c, &ghost, b]);
    let unconfirmed = post_action(&server, &terminate).await;
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    let error: ApiErrorBody = unconfirmed.json().await.expect("error JSON");
    assert!(error.error.starts_with("confirm:"), "{}", error.error);

    terminate.confirm = terminate.instance_ids.clone();
    let answer: ActionResponse = post_action(&server, &terminate)
        .await
        .json()
        .await
        .expect("outcomes");
    let by_id = |id: &String| {
        answer
            .outcomes
            .iter()
            .find(|o| o.instance_id == *id)
            .expect("outcome")
    };
    assert!(
        !by_id(c).ok && by_id(c).message.contains("protected"),
        "{answer:?}"
    );
    assert!(
        !by_id(&ghost).ok && by_id(&ghost).message.contains("does not exist"),
        "{answer:?}"
    );
    assert!(by_id(b).ok, "{answer:?}");
    assert_eq!(
        answer
            .outcomes
            .iter()
            .map(|o| &o.instance_id)
            .collect::<Vec<_>>(),
        [c, &ghost, b]
    );

    let after = list(&server, "refresh=true").await;
    let state = |id: &String| {
        after
            .instances
            .iter()
            .find(|i| i.id == *id)
            .map(|i| i.state)
    };
    assert_eq!(
        state(c),
        Some(InstanceState::Running),
        "the protected instance is untouched"
    );
    assert!(matches!(
        state(b),
        Some(InstanceState::ShuttingDown | InstanceState::Terminated)
    ));

    for bad in [
        serde_json::json!({"action": "stop", "instance_ids": ["not-an-id"]}),
        serde_json::json!({"action": "stop", "instance_ids": []}),
        serde_json::json!({"action": "explode", "instance_ids": [a]}),
    ] {
        let response = server
            .client()
            .post(server.api("/instances/actions"))
            .json(&bad)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        let error: ApiErrorBody = response.json().await.expect("error JSON");
        assert_eq!(error.code, "invalid");
    }

    // Every action is in the audit log, the refused terminate too.
    let data = server.data_dir.clone();
    server.stop();
    let store = Store::open(&format!("sqlite:{}", data.join("knit.db").display()))
        .await
        .expect("database");
    let events = store
        .audit_events(&knit_shared::AuditQuery::default(), 20)
        .await
        .expect("audit");
    let terminated = events
        .iter()
        .find(|e| e.action == "instances.terminate")
        .expect("terminate audited");
    assert_eq!(terminated.outcome, "1 ok, 2 failed");
    assert!(terminated.target.contains(c.as_str()));
}

#[tokio::test]
async fn the_live_feed_sends_the_list_then_each_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let east = moto_client(&moto, "us-east-1").await;
    let launched = launch(&east, "live", "app", 2).await;
    let server = start_knit(dir.path(), &moto.endpoint());

    let mut feed = server.get("/instances/events").await.expect("feed answers");
    assert_eq!(
        feed.headers()["content-type"].to_str().expect("text"),
        "text/event-stream"
    );
    let mut events = EventReader::default();
    let first: InstanceChanges = events.next(&mut feed).await.expect("a first event");
    assert_eq!(first.changed.len(), 2);
    assert!(first.removed.is_empty());

    let stop = post_action(&server, &action(InstanceAction::Stop, &[&launched[0]])).await;
    assert_eq!(stop.status(), StatusCode::OK);
    loop {
        let changes: InstanceChanges = events.next(&mut feed).await.expect("the feed goes on");
        let Some(changed) = changes.changed.iter().find(|i| i.id == launched[0]) else {
            continue;
        };
        // A first poll that failed resends the whole list, still running; the stop follows.
        if changed.state == InstanceState::Running {
            continue;
        }
        assert!(
            matches!(
                changed.state,
                InstanceState::Stopping | InstanceState::Stopped
            ),
            "{changes:?}"
        );
        assert!(
            changes.changed.iter().all(|i| i.id != launched[1]),
            "only what changed is sent: {changes:?}"
        );
        break;
    }
    server.stop();
}

#[tokio::test]
async fn profiles_of_the_server_can_be_chosen_and_unknown_ones_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let east = moto_client(&moto, "us-east-1").await;
    let launched: BTreeSet<String> = launch(&east, "staged", "app", 2)
        .await
        .into_iter()
        .collect();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::write(
        data.join("aws-config"),
        "[default]\nregion = us-east-1\n\n[profile staging]\nregion = us-east-1\n",
    )
    .expect("write config");
    std::fs::write(
        data.join("aws-credentials"),
        "[staging]\naws_access_key_id = staging\naws_secret_access_key = staging\n",
    )
    .expect("write credentials");
    let server = start_knit(dir.path(), &moto.endpoint());

    let profiles: knit_shared::Profiles = server
        .get("/profiles")
        .await
        .expect("profiles")
        .json()
        .await
        .expect("profiles JSON");
    assert_eq!(profiles.profiles, ["default", "staging"]);
    assert_eq!(ids(&list(&server, "profile=staging").await), launched);

    let unknown = server
        .get("/instances?profile=nope")
        .await
        .expect("answers");
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let error: ApiErrorBody = unknown.json().await.expect("error JSON");
    assert!(
        error.error.contains("profile nope is not configured"),
        "{}",
        error.error
    );
    server.stop();
}

#[tokio::test]
async fn an_instances_system_log_is_its_console_output_and_a_bad_id_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let east = moto_client(&moto, "us-east-1").await;
    let id = launch(&east, "app", "app", 1).await.remove(0);
    let server = start_knit(dir.path(), &moto.endpoint());

    let log: ConsoleOutput = server.get_json(&format!("/instances/{id}/console")).await;
    assert_eq!(log.instance_id, id);
    // moto's console output is a sample boot log of its own.
    assert!(log.output.starts_with("Linux version "), "{log:?}");
    assert!(!log.truncated);

    for (bad, status) in [
        ("i-nope", StatusCode::BAD_REQUEST),
        ("i-0123456789abcdef0", StatusCode::NOT_FOUND),
    ] {
        let response = server
            .get(&format!("/instances/{bad}/console"))
            .await
            .expect("an answer");
        assert_eq!(response.status(), status, "{bad}");
        let body: ApiErrorBody = response.json().await.expect("an error body");
        assert!(body.error.contains(bad), "{body:?}");
    }
    server.stop();
}
