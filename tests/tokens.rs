//! API tokens end: after their days, when their account's password changes, and with their
//! account. None lives longer than the server allows, and a browser's session must give the
//! password again to make one.

use knit_shared::{CreatedToken, TokenList};
use reqwest::header::{COOKIE, ORIGIN};
use serde_json::json;

use crate::harness::{
    KnitServer, TEST_PASSWORD, client_with, dummy_web_dir, error_of, session_cookie, sign_in,
    signed_in_as, start_moto, start_server,
};

async fn create(
    client: &reqwest::Client,
    server: &KnitServer,
    body: serde_json::Value,
) -> reqwest::Response {
    client
        .post(server.api("/tokens"))
        .json(&body)
        .send()
        .await
        .expect("POST /tokens")
}

/// Whether `token` still signs anyone in.
async fn works(server: &KnitServer, token: &str) -> bool {
    let answer = client_with(token)
        .get(server.api("/session"))
        .send()
        .await
        .expect("GET /session");
    answer.status() == 200
}

#[tokio::test]
async fn tokens_live_their_days_and_end_with_a_password_change_or_their_account() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let data = dir.path().join("data");
    let web = dummy_web_dir(dir.path());
    let server = KnitServer::on_moto(&data, &moto, &web, &["--token-max-days", "30"]);
    server.add_user("vic", "viewer");
    let vic = client_with(&server.token_of("vic"));

    // Longer than the server allows: refused, saying the limit.
    let (status, message) = error_of(
        create(
            &vic,
            &server,
            json!({"label": "forever", "expires_in_days": 31}),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, message.contains("1 to 30 days")),
        (400, true),
        "{message}"
    );

    let week: CreatedToken = create(
        &vic,
        &server,
        json!({"label": "week", "expires_in_days": 7}),
    )
    .await
    .json()
    .await
    .expect("created");
    assert!(works(&server, &week.token).await);
    let listed: TokenList = vic
        .get(server.api("/tokens"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    let row = listed
        .tokens
        .iter()
        .find(|t| t.id == week.id)
        .expect("listed");
    assert_eq!(row.expires_at, week.expires_at);
    assert!(row.expires_at > row.created_at);

    // A token minted with a token lives no longer than the one that minted it.
    let minted: CreatedToken = create(
        &client_with(&week.token),
        &server,
        json!({"label": "month", "expires_in_days": 30}),
    )
    .await
    .json()
    .await
    .expect("created");
    assert_eq!(minted.expires_at, week.expires_at);
    assert!(works(&server, &minted.token).await);

    // Past its time (moved there in the database, as a week would), it signs no one in.
    let url = format!("sqlite:{}", data.join("knit.db").display());
    let mut database = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("database");
    sqlx::query("UPDATE api_tokens SET expires_at_ms = $1 WHERE id = $2")
        .bind(knit::store::now_ms() - 1)
        .bind(week.id)
        .execute(&mut database)
        .await
        .expect("age the token");
    let expired = client_with(&week.token)
        .get(server.api("/session"))
        .send()
        .await
        .expect("GET /session");
    let (status, message) = error_of(expired).await;
    assert_eq!(status, 401);
    assert!(message.contains("expired"), "{message}");

    // A new password ends every token of the account.
    let other: CreatedToken = create(&vic, &server, json!({"label": "other"}))
        .await
        .json()
        .await
        .expect("created");
    assert!(works(&server, &other.token).await);
    let changed = server.cli(&["user", "password", "vic"], "vic's brand new password");
    assert!(
        changed.status.success(),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    assert!(!works(&server, &other.token).await);

    // So does removing the account.
    server.add_user("wes", "viewer");
    let wes = server.token_of("wes");
    assert!(works(&server, &wes).await);
    let removed = server.cli(&["user", "remove", "wes"], "");
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    assert!(!works(&server, &wes).await);
    server.stop();
}

#[tokio::test]
async fn a_browser_session_gives_the_password_again_to_make_a_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_server(dir.path()).await;
    server.add_user("vic", "viewer");
    let cookie = session_cookie(&sign_in(&server, "vic").await);
    let from_console = |body: serde_json::Value| {
        reqwest::Client::new()
            .post(server.api("/tokens"))
            .header(COOKIE, &cookie)
            .header(ORIGIN, &server.url)
            .json(&body)
            .send()
    };

    for body in [
        json!({"label": "stolen"}),
        json!({"label": "stolen", "password": "a wrong guess at it"}),
    ] {
        let (status, message) = error_of(from_console(body).await.expect("POST")).await;
        assert_eq!(status, 403);
        assert!(message.contains("password again"), "{message}");
    }
    let made = from_console(json!({"label": "mine", "password": TEST_PASSWORD}))
        .await
        .expect("POST");
    assert_eq!(made.status(), 201);
    let made: CreatedToken = made.json().await.expect("created");
    assert_eq!(
        signed_in_as(&client_with(&made.token), &server).await.name,
        "vic"
    );

    let refusals: Vec<_> = server
        .audit("token.create")
        .await
        .into_iter()
        .filter(|entry| entry.actor == "vic" && entry.outcome.starts_with("refused"))
        .collect();
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    server.stop();
}

#[tokio::test]
async fn a_live_feed_ends_within_a_minute_of_its_token_being_revoked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_server(dir.path()).await;
    let feed_token: CreatedToken = create(
        &server.client(),
        &server,
        json!({"label": "feed", "expires_in_days": 1}),
    )
    .await
    .json()
    .await
    .expect("created");
    let mut feed = client_with(&feed_token.token)
        .get(server.api("/instances/events"))
        .send()
        .await
        .expect("the feed");
    assert_eq!(feed.status(), 200);
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), feed.chunk())
        .await
        .expect("the first changes")
        .expect("a chunk");
    assert!(first.is_some());
    let revoked = server
        .client()
        .delete(server.api(&format!("/tokens/{}", feed_token.id)))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), 204);
    // Keep-alives may come meanwhile; the stream itself ends.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Ok(Some(_)) = feed.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the feed outlived its token by a minute");
    server.stop();
}
