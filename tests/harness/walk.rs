//! The console's cluster page in Chromium: pressing a scenario and following its run to the end.

use std::time::Duration;

use fantoccini::Locator;
use knit_shared::{RunEvent, RunEventBody};

use super::{Browser, EventReader, KnitServer};

/// Opens the page of the sandbox's demo cluster and presses `scenario`: its run dialog shows.
pub async fn open_scenario(browser: &Browser, server: &KnitServer, scenario: &str) {
    browser
        .open(&format!("{}/clusters/sandbox.demo", server.url))
        .await;
    let button = format!("[data-cluster=\"sandbox.demo\"] [data-scenario=\"{scenario}\"] button");
    browser.text_of(&button).await;
    browser.click(&button).await;
    browser.text_of("#run-dialog").await;
}

/// Presses `scenario` on the page of the sandbox's demo cluster, gives `ref` when asked, waits
/// (up to `seconds`) until the run ends well, and returns what its hosts printed (the commands'
/// own lines left out).
pub async fn press_scenario(
    browser: &Browser,
    server: &KnitServer,
    scenario: &str,
    git_ref: Option<&str>,
    seconds: u64,
) -> Vec<String> {
    open_scenario(browser, server, scenario).await;
    if let Some(git_ref) = git_ref {
        browser.replace_text("#param-ref", git_ref).await;
    }
    start_in_dialog(browser, server, scenario, seconds).await
}

/// Presses the open run dialog's go button and follows the run, as `press_scenario` does.
pub async fn start_in_dialog(
    browser: &Browser,
    server: &KnitServer,
    scenario: &str,
    seconds: u64,
) -> Vec<String> {
    browser.click("#run-go").await;
    let path = run_page(browser, scenario).await;
    let id = path.trim_start_matches("/runs/");
    let ended = ["ok", "failed", "cancelled", "interrupted"];
    let shown = browser
        .wait_until_shown("#run-status", seconds, |status| ended.contains(&status))
        .await;
    let Ok(status) = shown else {
        // Say where it stands on the server, and what its hosts printed so far.
        let detail: serde_json::Value = server.get_json(&format!("/runs/{id}")).await;
        let said = said_so_far(server, id, Duration::from_secs(2)).await;
        panic!(
            "{scenario} shown as {shown:?} after {seconds} s; the server has {} {}\n{}",
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

/// The path of the run the dialog started, once the console shows it (up to 30 s), or a
/// panic saying what the dialog said instead.
async fn run_page(browser: &Browser, scenario: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let path = browser.path().await;
        if path.starts_with("/runs/") {
            return path;
        }
        if tokio::time::Instant::now() >= deadline {
            let refused = match browser.client.find(Locator::Css("#run-refused")).await {
                Ok(notice) => notice.text().await.unwrap_or_default(),
                Err(_) => "nothing".to_owned(),
            };
            panic!("{scenario} started no run after 30 s (at {path}); the dialog says {refused}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
