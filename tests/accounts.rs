//! Accounts, sessions, API tokens and roles against the real server: who may do what on every
//! route, cookies that cannot be used from another site, slowed password guessing.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use knit_shared::{AuditList, CreatedToken, Me, Role, TokenList, UserList};
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{
    Browser, KnitServer, TEST_ADMIN, TEST_PASSWORD, built_console, client_with, dummy_web_dir,
    serve_cluster, start_moto,
};

/// Who may use a route: anyone, or accounts of at least a role.
#[derive(Debug, Clone, Copy)]
enum Access {
    Public,
    AtLeast(Role),
}

/// One request per route (and per role-dependent body): the method, the route as the router
/// writes it, the path sent, the body, and who may.
fn routes() -> Vec<(Method, &'static str, &'static str, Option<Value>, Access)> {
    use Access::{AtLeast, Public};
    use Role::{Admin, Deployer, Viewer};
    let id = "i-0123456789abcdef0";
    let sign_in = json!({"name": TEST_ADMIN, "password": TEST_PASSWORD});
    vec![
        (Method::GET, "/health", "/health", None, Public),
        (Method::POST, "/session", "/session", Some(sign_in), Public),
        (Method::GET, "/session", "/session", None, AtLeast(Viewer)),
        (
            Method::DELETE,
            "/session",
            "/session",
            None,
            AtLeast(Viewer),
        ),
        (Method::GET, "/users", "/users", None, AtLeast(Admin)),
        (
            Method::POST,
            "/users",
            "/users",
            Some(json!({})),
            AtLeast(Admin),
        ),
        (
            Method::DELETE,
            "/users/{name}",
            "/users/nobody",
            None,
            AtLeast(Admin),
        ),
        (
            Method::PUT,
            "/users/{name}/role",
            "/users/nobody/role",
            Some(json!({"role": "viewer"})),
            AtLeast(Admin),
        ),
        (Method::GET, "/tokens", "/tokens", None, AtLeast(Viewer)),
        (
            Method::POST,
            "/tokens",
            "/tokens",
            Some(json!({"label": "table"})),
            AtLeast(Viewer),
        ),
        (
            Method::DELETE,
            "/tokens/{id}",
            "/tokens/999999",
            None,
            AtLeast(Viewer),
        ),
        (Method::GET, "/clusters", "/clusters", None, AtLeast(Viewer)),
        (
            Method::GET,
            "/clusters/{name}/plan",
            "/clusters/nope/plan",
            None,
            AtLeast(Viewer),
        ),
        (Method::GET, "/regions", "/regions", None, AtLeast(Viewer)),
        (Method::GET, "/zones", "/zones", None, AtLeast(Viewer)),
        (Method::GET, "/profiles", "/profiles", None, AtLeast(Viewer)),
        (
            Method::GET,
            "/instances",
            "/instances",
            None,
            AtLeast(Viewer),
        ),
        (
            Method::POST,
            "/instances/actions",
            "/instances/actions",
            Some(json!({"action": "stop", "instance_ids": [id]})),
            AtLeast(Deployer),
        ),
        (
            Method::POST,
            "/instances/actions",
            "/instances/actions",
            Some(json!({"action": "terminate", "instance_ids": [id], "confirm": [id]})),
            AtLeast(Admin),
        ),
        (
            Method::POST,
            "/instances/actions",
            "/instances/actions",
            Some(json!({"action": "protect", "instance_ids": [id]})),
            AtLeast(Admin),
        ),
        (
            Method::GET,
            "/instances/events",
            "/instances/events",
            None,
            AtLeast(Viewer),
        ),
        (
            Method::POST,
            "/launch",
            "/launch",
            Some(json!({})),
            AtLeast(Admin),
        ),
        (
            Method::POST,
            "/launch/check",
            "/launch/check",
            Some(json!({})),
            AtLeast(Admin),
        ),
        (
            Method::GET,
            "/launch/progress",
            "/launch/progress?ids=i-0123456789abcdef0",
            None,
            AtLeast(Viewer),
        ),
        (
            Method::GET,
            "/client-address",
            "/client-address",
            None,
            AtLeast(Viewer),
        ),
        (Method::GET, "/images", "/images", None, AtLeast(Viewer)),
        (
            Method::GET,
            "/instance-types",
            "/instance-types",
            None,
            AtLeast(Viewer),
        ),
        (
            Method::GET,
            "/key-pairs",
            "/key-pairs",
            None,
            AtLeast(Viewer),
        ),
        (Method::GET, "/subnets", "/subnets", None, AtLeast(Viewer)),
        (
            Method::GET,
            "/instance-profiles",
            "/instance-profiles",
            None,
            AtLeast(Viewer),
        ),
        (
            Method::GET,
            "/security-groups",
            "/security-groups",
            None,
            AtLeast(Viewer),
        ),
        (Method::GET, "/runs", "/runs", None, AtLeast(Viewer)),
        (
            Method::POST,
            "/runs",
            "/runs",
            Some(json!({"cluster": "nope", "scenario": "deploy"})),
            AtLeast(Deployer),
        ),
        (
            Method::POST,
            "/runs",
            "/runs",
            Some(json!({"cluster": "nope", "scenario": "launch"})),
            AtLeast(Admin),
        ),
        (
            Method::GET,
            "/runs/{id}",
            "/runs/999",
            None,
            AtLeast(Viewer),
        ),
        (
            Method::GET,
            "/runs/{id}/events",
            "/runs/999/events",
            None,
            AtLeast(Viewer),
        ),
        (
            Method::POST,
            "/runs/{id}/cancel",
            "/runs/999/cancel",
            None,
            AtLeast(Deployer),
        ),
        (Method::GET, "/audit", "/audit", None, AtLeast(Admin)),
        (Method::GET, "/openapi.json", "/openapi.json", None, Public),
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

async fn start(dir: &Path) -> (knit::sandbox::Moto, KnitServer) {
    let moto = start_moto(dir).await;
    let server = KnitServer::on_moto(&dir.join("data"), &moto, &dummy_web_dir(dir), &[]);
    (moto, server)
}

#[tokio::test]
async fn each_role_is_refused_exactly_where_it_should_be_on_every_route() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start(dir.path()).await;
    let mut callers = vec![(None, reqwest::Client::new())];
    for role in Role::ALL {
        let name = format!("a-{role}");
        server.add_user(&name, role.name());
        callers.push((Some(role), client_with(&server.token_of(&name))));
    }

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

    // The table covers every route the API describes, and nothing else.
    let document: Value = server
        .get("/openapi.json")
        .await
        .expect("document")
        .json()
        .await
        .expect("JSON");
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
    assert_eq!(described, tested);
    server.stop();
}

/// Signs in as `name` with `TEST_PASSWORD` from this console's origin; the cookie header set.
async fn sign_in(server: &KnitServer, name: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(server.api("/session"))
        .header(ORIGIN, &server.url)
        .json(&json!({"name": name, "password": TEST_PASSWORD}))
        .send()
        .await
        .expect("sign in")
}

/// `knit_session=…` of a sign-in's answer.
fn session_cookie(response: &reqwest::Response) -> String {
    let set = response
        .headers()
        .get(SET_COOKIE)
        .expect("a cookie is set")
        .to_str()
        .expect("text");
    set.split(';').next().expect("name=value").to_owned()
}

async fn audit(server: &KnitServer, action: &str) -> Vec<knit_shared::AuditEntry> {
    let list: AuditList = server
        .get(&format!("/audit?action={action}"))
        .await
        .expect("audit")
        .json()
        .await
        .expect("JSON");
    list.events
}

#[tokio::test]
async fn a_session_cookie_is_strict_and_http_only_and_ends_at_sign_out_or_expiry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let server = KnitServer::on_moto(
        &dir.path().join("data"),
        &moto,
        &dummy_web_dir(dir.path()),
        &["--session-seconds", "3"],
    );
    let browser = reqwest::Client::new();

    let signed_in = sign_in(&server, TEST_ADMIN).await;
    assert_eq!(signed_in.status(), 200);
    let set = signed_in.headers()[SET_COOKIE]
        .to_str()
        .expect("text")
        .to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=3"] {
        assert!(set.contains(part), "{set}");
    }
    assert!(
        !set.contains("Secure"),
        "plain http cannot keep a Secure cookie: {set}"
    );
    let cookie = session_cookie(&signed_in);
    let me: Me = browser
        .get(server.api("/session"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    assert_eq!((me.name.as_str(), me.role), (TEST_ADMIN, Role::Admin));

    // Behind a proxy that speaks https, the cookie is never sent in the clear.
    let proxied = reqwest::Client::new()
        .post(server.api("/session"))
        .header(ORIGIN, &server.url)
        .header("x-forwarded-proto", "https")
        .json(&json!({"name": TEST_ADMIN, "password": TEST_PASSWORD}))
        .send()
        .await
        .expect("sign in");
    assert!(
        proxied.headers()[SET_COOKIE]
            .to_str()
            .expect("text")
            .contains("; Secure")
    );

    // Signing out ends the session on the server, not only in the browser.
    let out = browser
        .delete(server.api("/session"))
        .header(COOKIE, &cookie)
        .header(ORIGIN, &server.url)
        .send()
        .await
        .expect("sign out");
    assert_eq!(out.status(), 204);
    let after = browser
        .get(server.api("/runs"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("runs");
    assert_eq!(after.status(), 401);
    let message: Value = after.json().await.expect("JSON");
    assert!(
        message["error"]
            .as_str()
            .expect("error")
            .contains("session has ended")
    );

    // A session also ends by itself.
    let cookie = session_cookie(&sign_in(&server, TEST_ADMIN).await);
    let ask = || {
        browser
            .get(server.api("/session"))
            .header(COOKIE, &cookie)
            .send()
    };
    assert_eq!(ask().await.expect("me").status(), 200);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(ask().await.expect("me").status(), 401);

    let entries = audit(&server, "session.").await;
    let outcomes: Vec<(&str, &str)> = entries
        .iter()
        .map(|entry| (entry.action.as_str(), entry.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("session.log_in", "ok"),
            ("session.log_out", "ok"),
            ("session.log_in", "ok"),
            ("session.log_in", "ok"),
        ]
    );
    assert!(
        entries
            .iter()
            .all(|entry| entry.address.as_deref() == Some("127.0.0.1"))
    );
    server.stop();
}

#[tokio::test]
async fn a_stolen_cookie_cannot_change_state_from_another_origin() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start(dir.path()).await;
    let cookie = session_cookie(&sign_in(&server, TEST_ADMIN).await);
    let start_run = |origin: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(server.api("/runs"))
            .header(COOKIE, &cookie)
            .json(&json!({"cluster": "nope", "scenario": "deploy"}));
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        request.send()
    };
    for origin in [Some("http://evil.example"), Some("null"), None] {
        let refused = start_run(origin).await.expect("request");
        assert_eq!(refused.status(), 403, "{origin:?}");
        let body: Value = refused.json().await.expect("JSON");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("API token") || e.contains("another site"))
        );
    }
    // From the console itself it goes through (to the next check: there is no such cluster).
    let own = start_run(Some(&server.url)).await.expect("request");
    assert_eq!(own.status(), 404);
    // Reading needs no origin.
    let read = reqwest::Client::new()
        .get(server.api("/runs"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("runs");
    assert_eq!(read.status(), 200);
    server.stop();
}

fn client_from(address: Ipv4Addr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(address))
        .build()
        .expect("client")
}

async fn try_password(
    client: &reqwest::Client,
    server: &KnitServer,
    name: &str,
    password: &str,
) -> StatusCode {
    client
        .post(server.api("/session"))
        .header(ORIGIN, &server.url)
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .expect("sign in")
        .status()
}

#[tokio::test]
async fn password_guessing_is_slowed_per_account_and_per_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start(dir.path()).await;
    server.add_user("ada", "viewer");
    let first = client_from(Ipv4Addr::new(127, 0, 0, 1));
    for _ in 0..5 {
        assert_eq!(
            try_password(&first, &server, "ada", "guess guess guess").await,
            401
        );
    }
    // Even the right password waits now, from any address.
    let other = client_from(Ipv4Addr::new(127, 0, 0, 2));
    assert_eq!(
        try_password(&other, &server, "ada", TEST_PASSWORD).await,
        429
    );
    // Other accounts are not locked out by it.
    assert_eq!(
        try_password(&first, &server, TEST_ADMIN, TEST_PASSWORD).await,
        200
    );

    // An address guessing across many accounts waits too; other addresses do not.
    let guesser = client_from(Ipv4Addr::new(127, 0, 0, 3));
    for n in 0..20 {
        let status =
            try_password(&guesser, &server, &format!("user{n}"), "guess guess guess").await;
        assert_eq!(status, 401);
    }
    assert_eq!(
        try_password(&guesser, &server, TEST_ADMIN, TEST_PASSWORD).await,
        429
    );
    assert_eq!(
        try_password(&other, &server, TEST_ADMIN, TEST_PASSWORD).await,
        200
    );

    let refused = audit(&server, "session.log_in").await;
    assert!(refused.iter().any(|entry| entry.actor == "ada"
        && entry.outcome == "refused: too many failures"
        && entry.address.as_deref() == Some("127.0.0.2")));
    server.stop();
}

#[tokio::test]
async fn tokens_act_as_their_account_are_stored_hashed_and_end_when_revoked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start(dir.path()).await;
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
    let me: Me = script
        .get(server.api("/session"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
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
    let all: TokenList = server
        .get("/tokens")
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
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
    let actions: Vec<String> = audit(&server, "token.")
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
    let (_moto, server) = start(dir.path()).await;
    let admin = server.client();
    let add = admin
        .post(server.api("/users"))
        .json(&json!({"name": "dee", "role": "deployer", "password": "dee's long password"}))
        .send()
        .await
        .expect("add");
    assert_eq!(add.status(), 201);
    let again = admin
        .post(server.api("/users"))
        .json(&json!({"name": "dee", "role": "viewer", "password": "another long one"}))
        .send()
        .await
        .expect("add");
    assert_eq!(again.status(), 409);
    let weak = admin
        .post(server.api("/users"))
        .json(&json!({"name": "eve", "role": "viewer", "password": "short"}))
        .send()
        .await
        .expect("add");
    assert_eq!(weak.status(), 400);
    let body: Value = weak.json().await.expect("JSON");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("at least 12 characters")
    );

    let promoted = admin
        .put(server.api("/users/dee/role"))
        .json(&json!({"role": "admin"}))
        .send()
        .await
        .expect("role");
    assert_eq!(promoted.status(), 204);
    let users: UserList = server
        .get("/users")
        .await
        .expect("users")
        .json()
        .await
        .expect("JSON");
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

    let actions: Vec<(String, String)> = audit(&server, "user.")
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

[scenarios.greet]
steps = ["app.greet"]
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
    let refused = run_as("dan").await;
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.expect("JSON");
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .contains("only olga may run cluster prod")
    );
    assert_eq!(run_as("olga").await.status(), 201);
    server.stop();
}

#[tokio::test]
async fn the_console_lets_an_admin_add_an_account_that_then_sees_only_what_its_role_may_do() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let server = KnitServer::on_moto(&dir.path().join("data"), &moto, &built_console(), &[]);
    let browser = Browser::start().await;
    browser.sign_in(&server).await;

    // The admin adds a deployer and makes an API token, shown once.
    browser.open(&format!("{}/account", server.url)).await;
    browser.wait_for_element("#user-table").await;
    browser.type_into("#user-name", "dana").await;
    browser.select("#user-role", "deployer").await;
    browser.type_into("#user-password", TEST_PASSWORD).await;
    browser.click("#user-add").await;
    browser
        .wait_for_text_containing("#user-table", "dana")
        .await;
    browser.type_into("#token-label", "laptop").await;
    browser.click("#token-create").await;
    let token = browser.text_of("#token-secret").await;
    let me: Me = client_with(&token)
        .get(server.api("/session"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("JSON");
    assert_eq!(me.name, TEST_ADMIN);
    browser
        .wait_for_text_containing("#token-table", "laptop")
        .await;
    assert!(!browser.text_of("#token-table").await.contains(&token));

    // Signed out, then in as the deployer: no launching, no audit, no terminating.
    browser.click("#sign-out").await;
    browser.wait_for_element("#login-name").await;
    browser.sign_in_as(&server.url, "dana", TEST_PASSWORD).await;
    let mut sections = Vec::new();
    for link in browser
        .client
        .find_all(fantoccini::Locator::Css(".top-bar nav a"))
        .await
        .expect("links")
    {
        sections.push(link.text().await.expect("text"));
    }
    assert_eq!(sections, ["Instances", "Clusters", "Runs", "API"]);
    browser.open(&format!("{}/instances", server.url)).await;
    browser.wait_for_element("#action-stop").await;
    assert!(
        browser
            .client
            .find(fantoccini::Locator::Css("#action-terminate"))
            .await
            .is_err()
    );
    // The API's own page lists every operation of the document.
    browser.open(&format!("{}/api-docs", server.url)).await;
    browser.wait_for_element("#api-operations details").await;
    let operations = browser
        .client
        .find_all(fantoccini::Locator::Css("#api-operations details"))
        .await
        .expect("operations");
    let mut documented: Vec<(Method, &str)> = routes()
        .into_iter()
        .map(|(method, route, ..)| (method, route))
        .collect();
    documented.dedup();
    assert_eq!(
        operations.len(),
        documented.len(),
        "one per method and path"
    );
    browser.close().await;
    server.stop();
}
