//! The newcomer's walk of the README in Chromium, against `knit serve --sandbox`: install the
//! demo cluster, deploy v1, the site (nginx → app → pgbouncer → PostgreSQL, memcached, redis)
//! says v1; deploy v2; the maintenance page while the site is down; rollback to v1. Every
//! daemon is Debian's own, started by knit's built-in kinds as the sandbox account.

use std::time::Duration;

use fantoccini::Locator;
use knit_shared::{Health, RunEvent, RunEventBody};

use crate::harness::{Browser, EventReader, KnitServer, start_sandbox};

/// Presses `scenario` on the demo cluster's page, gives `ref` when asked, waits until the run
/// ends well, and returns what its hosts printed (the commands' own lines left out).
async fn run(
    browser: &Browser,
    server: &KnitServer,
    scenario: &str,
    git_ref: Option<&str>,
) -> Vec<String> {
    browser
        .open(&format!("{}/clusters/sandbox.demo", server.url))
        .await;
    let button = format!("[data-cluster=\"sandbox.demo\"] [data-scenario=\"{scenario}\"] button");
    browser.text_of(&button).await;
    browser.click(&button).await;
    browser.text_of("#run-dialog").await;
    if let Some(git_ref) = git_ref {
        browser.replace_text("#param-ref", git_ref).await;
    }
    browser.click("#run-go").await;
    let ended = ["ok", "failed", "cancelled", "interrupted"];
    let shown = browser
        .wait_until_shown("#run-status", 180, |status| ended.contains(&status))
        .await;
    let path = browser.path().await;
    let id = path.trim_start_matches("/runs/");
    let Ok(status) = shown else {
        // Say where it stands on the server, and what its hosts printed so far.
        let detail: serde_json::Value = server.get_json(&format!("/runs/{id}")).await;
        let said = said_so_far(server, id, Duration::from_secs(2)).await;
        panic!(
            "{scenario} shown as {shown:?} after 180 s; the server has {} {}\n{}",
            detail["run"]["status"],
            detail["grid"]["cells"],
            said.join("\n")
        );
    };
    let said = said_so_far(server, id, Duration::from_secs(60)).await;
    assert_eq!(status, "ok", "{scenario}: {}", said.join("\n"));
    for cell in browser
        .client
        .find_all(Locator::Css("#progress-grid td[data-status]"))
        .await
        .expect("grid cells")
    {
        let status = cell.attr("data-status").await.expect("status");
        assert!(
            matches!(status.as_deref(), Some("ok" | "skipped")),
            "{scenario}: a cell is {status:?}"
        );
    }
    said
}

/// What the hosts of run `id` printed (the commands' own lines left out), read from its events
/// until they end or `patience` passes without one.
async fn said_so_far(server: &KnitServer, id: &str, patience: Duration) -> Vec<String> {
    let mut response = server
        .get(&format!("/runs/{id}/events"))
        .await
        .expect("events");
    let mut reader = EventReader::default();
    let mut said = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(patience, reader.next::<RunEvent>(&mut response)).await
    {
        if let RunEventBody::Line { text, .. } = event.body
            && !text.starts_with('[')
        {
            said.push(text);
        }
    }
    said
}

/// The site's status and page, through web-1's nginx.
async fn visit(site: &str) -> (u16, String) {
    let response = reqwest::get(site).await.expect("the site answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("page"))
}

/// Visits the site until its page has `text` (nginx's new workers take over after a reload).
async fn wait_for_page(site: &str, text: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, page) = visit(site).await;
        if page.contains(text) {
            return page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the site never said {text:?}; last {status}: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_newcomer_installs_deploys_v1_then_v2_and_rolls_back_on_real_daemons() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_moto, server) = start_sandbox(dir.path()).await;
    let health: Health = server.get_json("/health").await;
    let site = health.sandbox.expect("a sandbox").site;
    assert!(site.starts_with("http://127.0.0.1:"), "{site}");
    assert!(
        reqwest::get(&site).await.is_err(),
        "nothing serves {site} before install"
    );

    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    // The banner points at the site.
    let link = browser
        .client
        .find(Locator::Css("#sandbox-site"))
        .await
        .expect("the banner's link");
    assert_eq!(link.attr("href").await.expect("href"), Some(site.clone()));

    let said = run(&browser, &server, "install", None).await;
    let pgbouncer = "app answers through pgbouncer on port ";
    assert!(
        said.iter().any(|line| line.starts_with(pgbouncer)),
        "{said:?}"
    );
    run(&browser, &server, "deploy", Some("v1")).await;
    let page = wait_for_page(&site, "knit demo v1").await;
    for line in [
        "ref v1",
        "served by web-",
        "PostgreSQL through pgbouncer: visit ",
        "memcached hits: ",
        "redis hits: ",
    ] {
        assert!(page.contains(line), "{line:?} not in {page}");
    }
    assert!(!page.contains("unreachable"), "{page}");

    // Both web hosts serve, each behind either nginx.
    let mut served_by = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let (_, page) = visit(&site).await;
        if let Some(at) = page.find("served by ") {
            served_by.insert(page[at + 10..at + 15].to_owned());
        }
    }
    assert_eq!(
        served_by.into_iter().collect::<Vec<_>>(),
        ["web-1", "web-2"]
    );

    // Installing again changes nothing, and says so.
    let again = run(&browser, &server, "install", None).await;
    assert!(
        !again.iter().any(|line| line.starts_with("wrote: ")),
        "{again:?}"
    );
    assert!(
        again.iter().any(|line| line.starts_with("unchanged: ")),
        "{again:?}"
    );
    for service in ["memcached", "redis-server", "pgbouncer"] {
        let unchanged = format!("{service} runs; its configuration is unchanged");
        assert!(again.contains(&unchanged), "{unchanged:?} not in {again:?}");
    }

    run(&browser, &server, "deploy", Some("v2")).await;
    wait_for_page(&site, "knit demo v2").await;

    // Down for maintenance: 503 and the maintenance page, until the site is up again.
    run(&browser, &server, "site_down", None).await;
    let (status, page) = visit(&site).await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("Down for maintenance"), "{page}");
    run(&browser, &server, "site_up", None).await;
    assert_eq!(visit(&site).await.0, 200);

    run(&browser, &server, "rollback", None).await;
    let page = wait_for_page(&site, "knit demo v1").await;
    assert!(page.contains("ref v1"), "{page}");

    browser.close().await;
    server.stop();
}
