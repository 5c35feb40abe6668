//! The newcomer's walk of the README in Chromium, against `knit serve --sandbox`: install the
//! demo cluster, deploy v1, the site (nginx → app → pgbouncer → PostgreSQL, memcached, redis)
//! says v1; deploy v2; the maintenance page while the site is down; rollback to v1. Every
//! daemon is Debian's own, started by knit's built-in kinds as the sandbox account.

use std::time::Duration;

use fantoccini::Locator;
use knit_shared::Health;

use crate::harness::{Browser, open_scenario, press_scenario, start_sandbox};

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

    let said = press_scenario(&browser, &server, "install", None, 180).await;
    // The app's database user gets a password, and the check logs in with it.
    assert!(
        said.iter()
            .any(|line| line == "set the password of the role app"),
        "{said:?}"
    );
    let pgbouncer = "app logs in to app through pgbouncer on port ";
    assert!(
        said.iter()
            .any(|line| line.starts_with(pgbouncer) && line.ends_with(" with its password")),
        "{said:?}"
    );
    let deployed = press_scenario(&browser, &server, "deploy", Some("v1"), 180).await;
    let page = wait_for_page(&site, "knit demo v1").await;
    // The password the sandbox made is in the app's environment, and in no line of either run.
    let password = std::fs::read_to_string(dir.path().join("data/secrets/sandbox.demo-db"))
        .expect("the sandbox's database password");
    let password = password.trim_end();
    assert!(password.len() >= 32, "{password:?}");
    assert!(
        !said
            .iter()
            .chain(&deployed)
            .any(|line| line.contains(password)),
        "the password is in a run's log"
    );
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
    let again = press_scenario(&browser, &server, "install", None, 180).await;
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

    // Before v2: the run dialog says what it would change, asking the hosts.
    open_scenario(&browser, &server, "deploy").await;
    browser.replace_text("#param-ref", "v2").await;
    browser.click("#run-diff-ask").await;
    let diff = browser
        .wait_for_text_containing("#run-diff", "commit added: ")
        .await;
    for part in [
        "web-1",
        "web-2",
        "[app] commit: ",
        " (v2)",
        "/shared/knit.env unchanged",
    ] {
        assert!(diff.contains(part), "{part:?} not in {diff}");
    }
    assert!(!diff.contains(password), "{diff}");

    press_scenario(&browser, &server, "deploy", Some("v2"), 180).await;
    wait_for_page(&site, "knit demo v2").await;

    // Down for maintenance: 503 and the maintenance page, until the site is up again.
    press_scenario(&browser, &server, "site_down", None, 180).await;
    let (status, page) = visit(&site).await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("Down for maintenance"), "{page}");
    press_scenario(&browser, &server, "site_up", None, 180).await;
    assert_eq!(visit(&site).await.0, 200);

    press_scenario(&browser, &server, "rollback", None, 180).await;
    let page = wait_for_page(&site, "knit demo v1").await;
    assert!(page.contains("ref v1"), "{page}");

    browser.close().await;
    server.stop();
}
