//! The instances page in Chromium against the sandbox: list, filter, live state, terminate.

use std::time::Duration;

use fantoccini::Locator;
use knit_shared::InstanceList;

use crate::harness::{Browser, TEST_ADMIN, moto_client, start_sandbox};

/// The state a row's badge shows; empty while the row is being redrawn (the live feed can
/// replace it between finding it and reading it).
async fn badge(browser: &Browser, id: &str) -> String {
    let Ok(element) = browser
        .client
        .find(Locator::Css(&format!("tr[data-id='{id}'] [data-state]")))
        .await
    else {
        return String::new();
    };
    element
        .attr("data-state")
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

async fn wait_for_badge(browser: &Browser, id: &str, states: &[&str]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while tokio::time::Instant::now() < deadline {
        seen = badge(browser, id).await;
        if states.contains(&seen.as_str()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{id} shows {seen:?}, not one of {states:?}");
}

async fn row_count(browser: &Browser) -> usize {
    browser
        .client
        .find_all(Locator::Css("table.instances tbody tr"))
        .await
        .expect("rows")
        .len()
}

async fn wait_for_rows(browser: &Browser, count: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::time::Instant::now() < deadline {
        if row_count(browser).await == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the table has {} rows, not {count}",
        row_count(browser).await
    );
}

#[tokio::test]
async fn the_list_filters_follows_live_state_and_terminates_only_when_confirmed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (moto, server) = start_sandbox(dir.path()).await;
    let list: InstanceList = server
        .get("/instances")
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    let id_of = |name: &str| {
        list.instances
            .iter()
            .find(|i| i.name.as_deref() == Some(name))
            .map(|i| i.id.clone())
            .expect("seeded instance")
    };
    let (web1, web2, db1) = (id_of("web-1"), id_of("web-2"), id_of("db-1"));

    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    browser.open(&format!("{}/instances", server.url)).await;
    wait_for_rows(&browser, 3).await;
    wait_for_badge(&browser, &web1, &["running"]).await;
    // The sandbox's hosts are not its instances (no machines here): nothing answers SSH at
    // the addresses moto made up, and knit says so without dialling them.
    browser
        .wait_for_text(
            &format!("tr[data-id='{web1}'] [data-ssh='silent']"),
            "no SSH",
        )
        .await;

    // The filter narrows the list, server-side, and lives in the URL.
    let filter = browser
        .client
        .find(Locator::Id("filter"))
        .await
        .expect("filter box");
    filter.send_keys("web").await.expect("type");
    wait_for_rows(&browser, 2).await;
    assert!(
        browser
            .client
            .current_url()
            .await
            .expect("url")
            .query()
            .unwrap_or("")
            .contains("q=web")
    );
    filter.clear().await.expect("clear");
    browser.open(&format!("{}/instances", server.url)).await;
    wait_for_rows(&browser, 3).await;

    // The detail panel shows every field and the rules of the instance's security groups.
    browser
        .click(&format!("tr[data-id='{web1}'] button.link"))
        .await;
    let detail = browser.text_of("#instance-detail .group table.rules").await;
    assert!(detail.contains("203.0.113.0/24"), "{detail}");
    assert!(detail.contains("443"), "{detail}");
    let panel = browser.text_of("#instance-detail dl").await;
    assert!(
        panel.contains("knit-sandbox") && panel.contains(&web1),
        "{panel}"
    );
    // Its system log, read when asked: moto's sample boot log.
    browser.click("#instance-console-read").await;
    let log = browser
        .wait_for_text_containing("#instance-console", "Linux version")
        .await;
    assert!(log.contains("BIOS-provided physical RAM map"), "{log}");
    browser
        .click("#instance-detail button[aria-label=Close]")
        .await;

    // A change made outside knit reaches the page through the live feed, without a reload.
    let ec2 = moto_client(&moto, "us-east-1").await;
    ec2.stop_instances()
        .instance_ids(&web2)
        .send()
        .await
        .expect("stop in moto");
    wait_for_badge(&browser, &web2, &["stopping", "stopped"]).await;

    // Terminate asks for the name to be typed, and only then acts.
    browser
        .click(&format!("tr[data-id='{db1}'] input[type=checkbox]"))
        .await;
    browser.click("#action-terminate").await;
    let go = browser
        .client
        .wait()
        .for_element(Locator::Id("terminate-go"))
        .await
        .expect("dialog");
    assert!(
        !go.is_enabled().await.expect("state"),
        "terminate before confirmation"
    );
    let confirm = browser
        .client
        .find(Locator::Id("terminate-confirm"))
        .await
        .expect("input");
    confirm.send_keys("db-").await.expect("type");
    assert!(
        !go.is_enabled().await.expect("state"),
        "a partial name confirms nothing"
    );
    assert_eq!(badge(&browser, &db1).await, "running");
    confirm.send_keys("1").await.expect("type");
    go.click().await.expect("terminate");
    wait_for_badge(&browser, &db1, &["shutting-down", "terminated"]).await;
    let notice = browser.text_of("#action-notice").await;
    assert!(notice.contains("terminate: done for 1"), "{notice}");
    assert_eq!(
        badge(&browser, &web1).await,
        "running",
        "only the confirmed instance went"
    );

    // An empty region fills in live: an instance launched outside knit appears without a reload.
    browser
        .open(&format!("{}/instances?region=eu-west-1", server.url))
        .await;
    let empty = browser.text_of("main .empty-state h2").await;
    assert_eq!(empty, "No instances in eu-west-1");
    moto_client(&moto, "eu-west-1")
        .await
        .run_instances()
        .image_id("ami-12c6146b")
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("launch in moto");
    wait_for_rows(&browser, 1).await;

    // The audit page names the termination: who, from where, what, how it ended.
    browser
        .open(&format!("{}/audit?action=instances.terminate", server.url))
        .await;
    browser
        .text_of("#audit-table tr[data-action=\"instances.terminate\"]")
        .await;
    let rows = browser
        .client
        .find_all(Locator::Css("#audit-table tbody tr"))
        .await
        .expect("rows");
    assert_eq!(
        rows.len(),
        2,
        "only terminations are listed: asked, then done"
    );
    let (done, asked) = (
        rows[0].text().await.expect("text"),
        rows[1].text().await.expect("text"),
    );
    for part in [TEST_ADMIN, "127.0.0.1", &db1, "instances.terminate"] {
        assert!(
            done.contains(part) && asked.contains(part),
            "{part}: {done} / {asked}"
        );
    }
    assert!(done.contains("1 ok, 0 failed"), "{done}");
    assert!(asked.contains("requested"), "{asked}");

    browser.close().await;
    server.stop();
}
