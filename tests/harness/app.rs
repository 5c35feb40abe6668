//! The HTTP application in-process, for tests that drive the router without a socket.

use axum::Router;
use axum::body::Body;
use std::time::Duration;

use axum::http::{HeaderValue, Request, StatusCode, header};
use clap::Parser;
use http_body_util::BodyExt;
use knit::App;
use knit::accounts::{AccountError, Accounts};
use knit::cli::{Cli, Command};
use knit::ec2::{Ec2Hub, Ec2Target, connect};
use knit::inventory::Inventory;
use knit::runs::{Fleet, Runs};
use knit::ssh::KnownHosts;
use knit::store::{Actor, Store};
use knit::wizard::Wizard;
use knit_shared::{NewUser, Role};
use tower::ServiceExt;
use tower_http::set_header::SetRequestHeaderLayer;

use super::dummy_web_dir;

/// The application over a fresh database in `dir`, a console folder holding only index.html,
/// and EC2 as `target` says; every request is sent by an admin's API token.
pub async fn app_with(dir: &std::path::Path, target: Ec2Target) -> Router {
    app_serving(dir, target, &dummy_web_dir(dir)).await
}

/// The same, serving the console (and the manual) of the folder `web`.
pub async fn app_serving(
    dir: &std::path::Path,
    target: Ec2Target,
    web: &std::path::Path,
) -> Router {
    let cli = Cli::parse_from(["knit", "serve", "--web-dir", web.to_str().expect("utf-8")]);
    let Some(Command::Serve(settings)) = cli.command else {
        unreachable!("parsed as serve");
    };
    let store = Store::open(&format!("sqlite:{}", dir.join("knit.db").display()))
        .await
        .expect("open database");
    let accounts = std::sync::Arc::new(Accounts::new(store.clone(), Duration::from_secs(3600)));
    let admin = Actor::named("test");
    let user = NewUser {
        name: "tester".to_owned(),
        role: Role::Admin,
        password: "a test password".to_owned(),
    };
    match accounts.add_user(&admin, &user).await {
        Ok(()) | Err(AccountError::NameTaken(_)) => {}
        Err(error) => panic!("cannot add the test admin: {error}"),
    }
    let token = accounts
        .create_token(&admin, &user.name, "router tests", None)
        .await
        .expect("token")
        .token;
    let (ec2, region) = connect(&target).await;
    let hub = std::sync::Arc::new(Ec2Hub::new(target, ec2, region));
    let fleet = Fleet::new(Vec::new(), std::sync::Arc::clone(&hub), dir.join("secrets"));
    let runs = Runs::open(
        store.clone(),
        fleet,
        KnownHosts::new(dir.join("known_hosts")),
    )
    .await
    .expect("runs");
    let signed_in = SetRequestHeaderLayer::overriding(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header value"),
    );
    let inventory = Inventory::new(hub, settings.ec2_page_size);
    knit::router(App {
        accounts,
        runs,
        wizard: Wizard::new(std::sync::Arc::clone(&inventory)),
        inventory,
        settings: std::sync::Arc::new(*settings),
        store,
        sandbox: None,
        stopping: tokio_util::sync::CancellationToken::new(),
    })
    .layer(signed_in)
}

/// Sends one bodiless request through `app`: its status, content type and body.
pub async fn send(app: Router, method: &str, uri: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("request");
    let response = app.oneshot(request).await.expect("response");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, content_type, body.to_vec())
}
