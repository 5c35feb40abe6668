//! Accounts, API tokens and roles against the real server: who may do what on every route,
//! tokens stored as digests, accounts managed by admins, clusters limited to their operators.

use knit_shared::{CreatedToken, Role, TokenList, UserList};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{
    KnitServer, TEST_ADMIN, TEST_PASSWORD, client_with, dummy_web_dir, error_of, serve_cluster,
    signed_in_as, start_server,
};

/// Who may use a route: anyone, or accounts of at least a role.
#[derive(Debug, Clone, Copy)]
pub enum Access {
    Public,
    AtLeast(Role),
}

/// One request per route (and per role-dependent body): the method, the route as the router
/// writes it, the path sent, the body, and who may.
#[rustfmt::skip]
pub fn routes() -> Vec<(Method, &'static str, &'static str, Option<Value>, Access)> {
    use Access::{AtLeast, Public};
    use Method as M;
    use Role::{Admin, Deployer, Viewer};
    let id = "i-0123456789abcdef0";
    let action = |verb: &str| Some(json!({"action": verb, "instance_ids": [id], "confirm": [id]}));
    let run = |scenario: &str| Some(json!({"cluster": "nope", "scenario": scenario}));
    vec![
        (M::GET, "/health", "/health", None, Public),
        (M::POST, "/session", "/session", Some(json!({"name": TEST_ADMIN, "password": TEST_PASSWORD})), Public),
        (M::GET, "/session", "/session", None, AtLeast(Viewer)),
        (M::DELETE, "/session", "/session", None, AtLeast(Viewer)),
        (M::GET, "/users", "/users", None, AtLeast(Admin)),
        (M::POST, "/users", "/users", Some(json!({})), AtLeast(Admin)),
        (M::DELETE, "/users/{name}", "/users/nobody", None, AtLeast(Admin)),
        (M::PUT, "/users/{name}/role", "/users/nobody/role", Some(json!({"role": "viewer"})), AtLeast(Admin)),
        (M::GET, "/tokens", "/tokens", None, AtLeast(Viewer)),
        (M::POST, "/tokens", "/tokens", Some(json!({"label": "table"})), AtLeast(Viewer)),
        (M::DELETE, "/tokens/{id}", "/tokens/999999", None, AtLeast(Viewer)),
        (M::GET, "/clusters", "/clusters", None, AtLeast(Viewer)),
        (M::GET, "/clusters/{name}/changes", "/clusters/nope/changes", None, AtLeast(Viewer)),
        (M::GET, "/clusters/{name}/releases", "/clusters/nope/releases", None, AtLeast(Viewer)),
        (M::GET, "/clusters/{name}/hosts", "/clusters/nope/hosts", None, AtLeast(Viewer)),
        (M::GET, "/clusters/{name}/diff", "/clusters/nope/diff?scenario=deploy", None, AtLeast(Deployer)),
        (M::POST, "/clusters/{name}/freeze", "/clusters/nope/freeze", Some(json!({"message": "x"})), AtLeast(Deployer)),
        (M::POST, "/clusters/{name}/unfreeze", "/clusters/nope/unfreeze", None, AtLeast(Deployer)),
        (M::POST, "/clusters/{name}/schedules/{scenario}/pause", "/clusters/nope/schedules/x/pause", None, AtLeast(Admin)),
        (M::POST, "/clusters/{name}/schedules/{scenario}/resume", "/clusters/nope/schedules/x/resume", None, AtLeast(Admin)),
        (M::GET, "/regions", "/regions", None, AtLeast(Viewer)),
        (M::GET, "/zones", "/zones", None, AtLeast(Viewer)),
        (M::GET, "/profiles", "/profiles", None, AtLeast(Viewer)),
        (M::GET, "/instances", "/instances", None, AtLeast(Viewer)),
        (M::POST, "/instances/actions", "/instances/actions", action("stop"), AtLeast(Deployer)),
        (M::POST, "/instances/actions", "/instances/actions", action("terminate"), AtLeast(Admin)),
        (M::POST, "/instances/actions", "/instances/actions", action("protect"), AtLeast(Admin)),
        (M::GET, "/instances/{id}/console", "/instances/i-0123456789abcdef0/console", None, AtLeast(Viewer)),
        (M::GET, "/instances/events", "/instances/events", None, AtLeast(Viewer)),
        (M::POST, "/wizard/launch", "/wizard/launch", Some(json!({})), AtLeast(Admin)),
        (M::POST, "/wizard/check", "/wizard/check", Some(json!({})), AtLeast(Admin)),
        (M::GET, "/wizard/progress", "/wizard/progress?ids=i-0123456789abcdef0", None, AtLeast(Viewer)),
        (M::GET, "/client-address", "/client-address", None, AtLeast(Viewer)),
        (M::GET, "/images", "/images", None, AtLeast(Viewer)),
        (
            M::GET,
            "/images/quick-start",
            "/images/quick-start",
            None,
            AtLeast(Viewer),
        ),
        (M::GET, "/instance-types", "/instance-types", None, AtLeast(Viewer)),
        (M::GET, "/key-pairs", "/key-pairs", None, AtLeast(Viewer)),
        (M::GET, "/subnets", "/subnets", None, AtLeast(Viewer)),
        (M::GET, "/instance-profiles", "/instance-profiles", None, AtLeast(Viewer)),
        (M::GET, "/security-groups", "/security-groups", None, AtLeast(Viewer)),
        (M::GET, "/runs", "/runs", None, AtLeast(Viewer)),
        (M::POST, "/runs", "/runs", run("deploy"), AtLeast(Deployer)),
        (M::POST, "/runs", "/runs", run("launch"), AtLeast(Admin)),
        (M::GET, "/runs/{id}", "/runs/999", None, AtLeast(Viewer)),
        (M::GET, "/runs/{id}/events", "/runs/999/events", None, AtLeast(Viewer)),
        (M::GET, "/runs/{id}/log", "/runs/999/log", None, AtLeast(Viewer)),
        (M::POST, "/runs/{id}/cancel", "/runs/999/cancel", None, AtLeast(Deployer)),
        (M::POST, "/runs/{id}/approve", "/runs/999/approve", Some(json!({})), AtLeast(Deployer)),
        (M::POST, "/runs/{id}/reject", "/runs/999/reject", Some(json!({})), AtLeast(Deployer)),
        (M::GET, "/audit", "/audit", None, AtLeast(Admin)),
        (M::GET, "/openapi.json", "/openapi.json", None, Public),
    ]
}

async fn send(
    client: &reqwest::Client,
    server: &KnitServer,
    method: &Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, String) {
    let mut request = client.request(method.clone(), server.api(path));
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    // Live feeds never end: their status and headers are the answer.
    let streams = response
        .headers()
        .get("content-type")
        .is_some_and(|kind| kind.as_bytes().starts_with(b"text/event-stream"));
    let text = if streams {
        String::new()
    } else {
        response.text().await.expect("body")
    };
    (status, text)
}

#[tokio::test]
async fn each_role_is_refused_exactly_where_it_should_be_on_every_route() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_server(dir.path()).await;
    let mut callers = vec![(None, reqwest::Client::new())];
    for role in Role::ALL {
        let name = format!("a-{role}");
        server.add_user(&name, role.name());
        callers.push((Some(role), client_with(&server.token_of(&name))));
    }

    let mut refused_changes = Vec::new();
    for (method, _, path, body, access) in routes() {
        for (role, client) in &callers {
            let (status, text) = send(client, &server, &method, path, body.as_ref()).await;
            let expected_refusal = match (access, role) {
                (Access::Public, _) => None,
                (Access::AtLeast(_), None) => Some(StatusCode::UNAUTHORIZED),
                (Access::AtLeast(needed), Some(role)) => {
                    (!role.may(needed)).then_some(StatusCode::FORBIDDEN)
                }
            };
            let said = format!("{method} {path} {body:?} as {role:?}: {status} {text}");
            if let (Some(StatusCode::FORBIDDEN), Some(role)) = (expected_refusal, role)
                && method != Method::GET
            {
                refused_changes.push((format!("a-{role}"), format!("{method} /api{path}")));
            }
            match expected_refusal {
                Some(refusal) => {
                    assert_eq!(status, refusal, "{said}");
                    let error: Value = serde_json::from_str(&text).expect("a JSON error");
                    assert!(
                        error["error"].as_str().is_some_and(|e| !e.is_empty()),
                        "{said}"
                    );
                }
                None => assert!(
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED,
                    "{said}"
                ),
            }
        }
    }

    // Every refused change is in the audit log, with who asked for what.
    let audited: Vec<(String, String)> = server
        .audit("access.refused")
        .await
        .into_iter()
        .map(|entry| (entry.actor, entry.target))
        .collect();
    for refused in &refused_changes {
        assert!(
            audited.contains(refused),
            "{refused:?} not audited: {audited:?}"
        );
    }
    assert!(!refused_changes.is_empty());

    // The table covers every route the API describes, and nothing else.
    let document: Value = server.get_json("/openapi.json").await;
    let mut described: Vec<(String, String)> = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, operations)| {
            operations
                .as_object()
                .expect("operations")
                .keys()
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut tested: Vec<(String, String)> = routes()
        .into_iter()
        .map(|(method, route, ..)| (method.to_string(), format!("/api{route}")))
        .collect();
    described.sort();
    tested.sort();
    tested.dedup();
    assert_eq!(described, tested, "the table above and the document");
    // And the router's own table: a route without its annotation is not in the document.
    let mut served: Vec<(String, String)> = knit::router::api_routes()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path))
        .collect();
    served.sort();
    assert_eq!(described, served, "the router and the document");
    server.stop();
}

#[tokio::test]
async fn tokens_act_as_their_account_are_stored_hashed_and_end_when_revoked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_server(dir.path()).await;
    server.add_user("vic", "viewer");
    let vic = client_with(&server.token_of("vic"));

    let created: CreatedToken = vic
        .post(server.api("/tokens"))
        .json(&json!({"label": "nightly report"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("JSON");
    let script = client_with(&created.token);
    let me = signed_in_as(&script, &server).await;
    assert_eq!((me.name.as_str(), me.role), ("vic", Role::Viewer));

    // Listed without its secret; a viewer sees only their own, an admin everyone's.
    let listed = vic
        .get(server.api("/tokens"))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    assert!(!listed.contains(&created.token), "{listed}");
    let own: TokenList = serde_json::from_str(&listed).expect("JSON");
    assert!(own.tokens.iter().all(|token| token.user == "vic"));
    assert!(
        own.tokens
            .iter()
            .any(|token| token.label == "nightly report" && token.last_used_at.is_some())
    );
    let all: TokenList = server.get_json("/tokens").await;
    assert!(all.tokens.iter().any(|token| token.user == TEST_ADMIN));
    let admins = all
        .tokens
        .iter()
        .find(|token| token.user == TEST_ADMIN)
        .expect("admin's token");

    // The database keeps a digest, never the token.
    let database = std::fs::read(dir.path().join("data/knit.db")).expect("database");
    let wal = std::fs::read(dir.path().join("data/knit.db-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        assert!(
            !bytes
                .windows(created.token.len())
                .any(|w| w == created.token.as_bytes())
        );
    }

    let not_theirs = vic
        .delete(server.api(&format!("/tokens/{}", admins.id)))
        .send()
        .await
        .expect("revoke");
    assert_eq!(not_theirs.status(), 403);
    let revoked = vic
        .delete(server.api(&format!("/tokens/{}", created.id)))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 204);
    let after = script.get(server.api("/session")).send().await.expect("me");
    assert_eq!(after.status(), 401);
    let actions: Vec<String> = server
        .audit("token.")
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(
        actions.contains(&"token.create".to_owned())
            && actions.contains(&"token.revoke".to_owned())
    );
    server.stop();
}

#[tokio::test]
async fn admins_manage_accounts_and_the_last_admin_stays() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_server(dir.path()).await;
    let admin = server.client();
    let add = server
        .post(
            "/users",
            &json!({"name": "dee", "role": "deployer", "password": "dee's long password"}),
        )
        .await;
    assert_eq!(add.status(), 201);
    let again = server
        .post(
            "/users",
            &json!({"name": "dee", "role": "viewer", "password": "another long one"}),
        )
        .await;
    assert_eq!(again.status(), 409);
    let weak = server
        .post(
            "/users",
            &json!({"name": "eve", "role": "viewer", "password": "short"}),
        )
        .await;
    let (status, message) = error_of(weak).await;
    assert_eq!(status, 400);
    assert!(message.contains("at least 12 characters"), "{message}");

    let promoted = admin
        .put(server.api("/users/dee/role"))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .expect("role");
    assert_eq!(promoted.status(), 204);
    let users: UserList = server.get_json("/users").await;
    let roles: Vec<(&str, Role)> = users
        .users
        .iter()
        .map(|u| (u.name.as_str(), u.role))
        .collect();
    assert_eq!(roles, [("dee", Role::Admin), (TEST_ADMIN, Role::Admin)]);
    assert!(
        !serde_json::to_string(&users)
            .expect("JSON")
            .contains("argon2")
    );

    assert_eq!(
        admin
            .delete(server.api("/users/dee"))
            .send()
            .await
            .expect("remove")
            .status(),
        204
    );
    let last = admin
        .put(server.api(&format!("/users/{TEST_ADMIN}/role")))
        .json(&json!({"role": "viewer"}))
        .send()
        .await
        .expect("role");
    assert_eq!(last.status(), 409);

    let actions: Vec<(String, String)> = server
        .audit("user.")
        .await
        .into_iter()
        .map(|entry| (entry.action, entry.outcome))
        .collect();
    for expected in [
        ("user.add", "ok"),
        ("user.add", "refused: name taken"),
        ("user.role", "ok"),
        ("user.remove", "ok"),
    ] {
        assert!(
            actions.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} in {actions:?}"
        );
    }
    server.stop();
}

const OPERATED: &str = r#"operators = ["olga"]

[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "hello"

[kinds.hello.tasks]
greet = ["echo hello from {{ host }}"]
nap = ["echo napping; sleep 60"]

[scenarios.greet]
steps = ["app.greet"]
[scenarios.nap]
steps = ["app.nap"]
"#;

#[tokio::test]
async fn a_cluster_with_operators_runs_only_for_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) =
        serve_cluster(dir.path(), "prod", OPERATED, &dummy_web_dir(dir.path())).await;
    server.add_user("olga", "deployer");
    server.add_user("dan", "deployer");
    let run_as = |name: &str| {
        let client = client_with(&server.token_of(name));
        let url = server.api("/runs");
        async move {
            client
                .post(url)
                .json(&json!({"cluster": "prod", "scenario": "greet"}))
                .send()
                .await
                .expect("run")
        }
    };
    let (status, message) = error_of(run_as("dan").await).await;
    assert_eq!(status, 403);
    assert!(
        message.contains("only olga may run cluster prod"),
        "{message}"
    );
    assert_eq!(run_as("olga").await.status(), 201);
    // Asking what a run would change reads the hosts: the operators' too.
    let diff_as = |name: &str| {
        let client = client_with(&server.token_of(name));
        let url = server.api("/clusters/prod/diff?scenario=greet");
        async move { client.get(url).send().await.expect("diff") }
    };
    let (status, message) = error_of(diff_as("dan").await).await;
    assert_eq!(status, 403);
    assert!(
        message.contains("only olga may ask what a run would change on cluster prod"),
        "{message}"
    );
    assert_eq!(diff_as("olga").await.status(), 200);
    let refused: Vec<_> = server
        .audit("run.start")
        .await
        .into_iter()
        .filter(|entry| entry.actor == "dan")
        .map(|entry| entry.outcome)
        .collect();
    assert_eq!(refused, ["refused: not an operator"]);
    server.stop();
}

#[tokio::test]
async fn only_a_clusters_operators_cancel_its_runs_and_act_on_its_instances() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, moto, server) =
        serve_cluster(dir.path(), "prod", OPERATED, &dummy_web_dir(dir.path())).await;
    server.add_user("olga", "deployer");
    server.add_user("dan", "deployer");
    let (olga, dan) = (
        client_with(&server.token_of("olga")),
        client_with(&server.token_of("dan")),
    );

    let nap: Value = olga
        .post(server.api("/runs"))
        .json(&json!({"cluster": "prod", "scenario": "nap"}))
        .send()
        .await
        .expect("run")
        .json()
        .await
        .expect("JSON");
    let cancel = |client: &reqwest::Client| {
        client
            .post(server.api(&format!("/runs/{}/cancel", nap["id"])))
            .send()
    };
    let (status, message) = error_of(cancel(&dan).await.expect("cancel")).await;
    assert_eq!(status, 403);
    assert!(
        message.contains("only olga may cancel runs of cluster prod"),
        "{message}"
    );
    assert_eq!(cancel(&olga).await.expect("cancel").status(), 202);

    // An instance the cluster launched (tagged with its name), and one of nobody's.
    let ec2 = crate::harness::moto_client(&moto, "us-east-1").await;
    let start = |tags: &[(&str, &str)]| {
        let mut spec = aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(aws_sdk_ec2::types::ResourceType::Instance);
        for (key, value) in tags {
            spec = spec.tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key(*key)
                    .value(*value)
                    .build(),
            );
        }
        ec2.run_instances()
            .image_id("ami-12c6146b")
            .min_count(1)
            .max_count(1)
            .tag_specifications(spec.build())
            .send()
    };
    let id_of = |started: aws_sdk_ec2::operation::run_instances::RunInstancesOutput| {
        started.instances()[0].instance_id().expect("id").to_owned()
    };
    let clusters = id_of(start(&[("knit:cluster", "prod")]).await.expect("instance"));
    let nobodys = id_of(start(&[("Name", "spare")]).await.expect("instance"));
    let stop = |client: &reqwest::Client, ids: Vec<String>| {
        client
            .post(server.api("/instances/actions"))
            .json(&json!({"action": "stop", "instance_ids": ids, "region": "us-east-1"}))
            .send()
    };
    let answer: Value = stop(&dan, vec![clusters.clone(), nobodys.clone()])
        .await
        .expect("stop")
        .json()
        .await
        .expect("JSON");
    let outcomes = answer["outcomes"].as_array().expect("outcomes");
    assert_eq!(outcomes[0]["instance_id"], json!(clusters));
    assert_eq!(outcomes[0]["ok"], json!(false), "{answer}");
    assert!(
        outcomes[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("belongs to cluster prod: only olga may act on it")),
        "{answer}"
    );
    assert_eq!(outcomes[1]["ok"], json!(true), "{answer}");
    let answer: Value = stop(&olga, vec![clusters.clone()])
        .await
        .expect("stop")
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["outcomes"][0]["ok"], json!(true), "{answer}");
    server.stop();
}
