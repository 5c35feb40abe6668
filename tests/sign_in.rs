//! Signing in against the real server: the session cookie's flags and end, no change from
//! another origin with it, password guessing slowed per account and per address, oversized
//! attempts refused before anything is written, and (in Chromium) no way out to another
//! site after signing in.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use knit_shared::{Me, Role};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};

use crate::harness::{
    Browser, KnitServer, TEST_ADMIN, TEST_PASSWORD, built_console, dummy_web_dir, error_of,
    session_cookie, sign_in, start_moto, start_server,
};

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
    let (status, message) = error_of(after).await;
    assert_eq!(status, 401);
    assert!(message.contains("session has ended"), "{message}");

    // A session also ends by itself.
    let cookie = session_cookie(&sign_in(&server, TEST_ADMIN).await);
    let ask = || {
        browser
            .get(server.api("/session"))
            .header(COOKIE, &cookie)
            .send()
    };
    assert_eq!(ask().await.expect("me").status(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while ask().await.expect("me").status() == 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the session never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ask().await.expect("me").status(), 401);

    let entries = server.audit("session.").await;
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
    let (_moto, server) = start_server(dir.path()).await;
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
    let (_moto, server) = start_server(dir.path()).await;
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

    // Throttled again and again: the audit log takes one entry a minute of the address.
    for _ in 0..10 {
        assert_eq!(
            try_password(&guesser, &server, TEST_ADMIN, TEST_PASSWORD).await,
            429
        );
    }

    let refused = server.audit("session.log_in").await;
    assert!(refused.iter().any(|entry| entry.actor == "ada"
        && entry.outcome == "refused: too many failures"
        && entry.address.as_deref() == Some("127.0.0.2")));
    let throttled_guesses = refused
        .iter()
        .filter(|entry| {
            entry.address.as_deref() == Some("127.0.0.3")
                && entry.outcome.starts_with("refused: too many failures")
        })
        .count();
    assert_eq!(throttled_guesses, 1, "{refused:?}");
    server.stop();
}

#[tokio::test]
async fn oversized_sign_ins_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_server(dir.path()).await;
    let before = server.audit("session.").await.len();
    let attempt = |body: Value| {
        reqwest::Client::new()
            .post(server.api("/session"))
            .header(ORIGIN, &server.url)
            .json(&body)
            .send()
    };

    let long_name = attempt(json!({"name": "a".repeat(65), "password": "whatever it is"}));
    let (status, message) = error_of(long_name.await.expect("answer")).await;
    assert_eq!(status, 400);
    assert!(message.contains("at most 64 characters"), "{message}");
    for body in [
        json!({"name": "a".repeat(1 << 20), "password": "whatever it is"}),
        json!({"name": "ada", "password": "p".repeat(10 << 20)}),
    ] {
        let (status, message) = error_of(attempt(body).await.expect("answer")).await;
        assert_eq!(status, 413);
        assert!(message.contains("more than"), "{message}");
    }

    let after = server.audit("session.").await;
    assert!(after.len() <= before + 1, "{after:?}");
    assert!(after.iter().all(|entry| entry.target.len() <= 64));
    // Still serving.
    assert_eq!(
        try_password(&reqwest::Client::new(), &server, TEST_ADMIN, TEST_PASSWORD).await,
        200
    );
    server.stop();
}

#[tokio::test]
async fn after_sign_in_the_console_never_leaves_for_another_site() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let server = KnitServer::on_moto(&dir.path().join("data"), &moto, &built_console(), &[]);
    let browser = Browser::start().await;
    let origin = reqwest::Url::parse(&server.url).expect("server URL");
    // Tabs and newlines are dropped by the browser's URL parser, a backslash reads as a slash:
    // each of these is `//evil.example`, another site, once the browser reads it.
    for (next, lands_on) in [
        ("/%09/evil.example", "/instances"),
        ("/%0A/evil.example", "/instances"),
        ("/%5Cevil.example", "/instances"),
        ("https://evil.example/runs", "/instances"),
        ("/.//evil.example", "/instances"),
        ("/runs?status=ok", "/runs"),
    ] {
        browser
            .open(&format!("{}/login?next={next}", server.url))
            .await;
        browser.wait_for_element("#login-name").await;
        browser.replace_text("#login-name", TEST_ADMIN).await;
        browser.replace_text("#login-password", TEST_PASSWORD).await;
        browser.click("#login-submit").await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let url = loop {
            let url = browser.client.current_url().await.expect("url");
            if url.path() != "/login" {
                break url;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "still signing in: next={next}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(
            (url.host_str(), url.port(), url.path()),
            (origin.host_str(), origin.port(), lands_on),
            "next={next}"
        );
        browser.wait_for_text("#signed-in-as", TEST_ADMIN).await;
    }
    browser.close().await;
    server.stop();
}
