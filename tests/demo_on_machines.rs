//! The newcomer's walk on the sandbox's real machines, in Chromium: `launch` on the demo
//! cluster (its plan shows the three instances) starts three Debian machines, the instance list
//! shows them running and answering SSH, `install` and `deploy` put the example's site on them
//! with the built-in kinds' production defaults (a Django project on two frontends behind nginx,
//! PostgreSQL behind pgbouncer, memcached and redis on the database machine), and the site the
//! sandbox printed at start says which release serves it, from both frontends: v1 (its
//! stylesheet served by nginx), v2, v1 again after `rollback` (v2's migration reversed), v3,
//! whose irreversible migration makes its rollback refuse before changing anything.
//! Terminating the instances from the instance list takes the site down again.

use std::collections::BTreeSet;
use std::time::Duration;

use fantoccini::Locator;
use knit_shared::{Health, RunStatus};

use crate::harness::{Browser, open_scenario, press_scenario, start_in_dialog, start_sandbox_with};

/// Packages from Debian's mirror and PyPI, through the sandbox's proxy: a first run downloads.
const INSTALL: u64 = 900;
const DEPLOY: u64 = 600;
const CLUSTER: &str = "sandbox.demo";

/// The site's status and page.
async fn visit(site: &str) -> (u16, String) {
    match reqwest::get(site).await {
        Ok(response) => (
            response.status().as_u16(),
            response.text().await.unwrap_or_default(),
        ),
        Err(error) => (0, error.to_string()),
    }
}

/// The hosts that serve `release` on the site, visiting it until both frontends did (nginx's
/// workers and gunicorn take a moment after a reload).
async fn served_by(site: &str, release: &str) -> BTreeSet<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut hosts = BTreeSet::new();
    loop {
        let (status, page) = visit(site).await;
        if page.contains(&format!("release {release}<"))
            && let Some(host) = page
                .split("<li>host ")
                .nth(1)
                .and_then(|rest| rest.split('<').next())
        {
            hosts.insert(host.to_owned());
        }
        if hosts.len() == 2 {
            return hosts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the site never said {release} from two hosts (only {hosts:?}); last {status}: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One instance of the demo as the instance list shows it.
#[derive(Debug)]
struct Shown {
    id: String,
    state: String,
    /// `ready` or `silent`, for a running instance knit tried.
    ssh: Option<String>,
}

/// The instances of the demo cluster in the instance list.
async fn demo_instances(browser: &Browser) -> Vec<Shown> {
    let mut found = Vec::new();
    let rows = browser
        .client
        .find_all(Locator::Css("table.instances tbody tr"))
        .await
        .expect("rows");
    for row in rows {
        let attr = async |css: &str, name: &str| match row.find(Locator::Css(css)).await {
            Ok(badge) => badge.attr(name).await.ok().flatten(),
            Err(_) => None,
        };
        let shown = Shown {
            id: row.attr("data-id").await.ok().flatten().unwrap_or_default(),
            state: attr("[data-state]", "data-state").await.unwrap_or_default(),
            ssh: attr("[data-ssh]", "data-ssh").await,
        };
        if row
            .text()
            .await
            .unwrap_or_default()
            .contains("sandbox.demo")
        {
            found.push(shown);
        }
    }
    found
}

/// Waits until the instance list shows three instances of the demo, each in one of `states`
/// (and answering SSH, when `ssh_ready`).
async fn wait_for_demo(browser: &Browser, states: &[&str], ssh_ready: bool) -> Vec<Shown> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let shown = demo_instances(browser).await;
        let good = |instance: &Shown| {
            states.contains(&instance.state.as_str())
                && (!ssh_ready || instance.ssh.as_deref() == Some("ready"))
        };
        if shown.len() == 3 && shown.iter().all(good) {
            return shown;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the instance list shows {shown:?}, not three instances {states:?} (SSH ready: {ssh_ready})"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newcomer_launches_the_demo_onto_machines_deploys_v1_then_v2_rolls_back_and_terminates() {
    let dir = tempfile::tempdir().expect("a folder");
    let (_moto, server) = start_sandbox_with(dir.path(), &["--sandbox-machines", "on"]).await;
    let health: Health = server.get_json("/health").await;
    let site = health.sandbox.expect("a sandbox").site;
    let (status, page) = visit(&site).await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("press launch"), "{page}");

    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    let link = browser
        .client
        .find(Locator::Css("#sandbox-site"))
        .await
        .expect("the banner's link");
    assert_eq!(link.attr("href").await.expect("href"), Some(site.clone()));
    let banner = browser.text_of("#sandbox-banner").await;
    assert!(banner.contains("is a real Debian machine"), "{banner}");

    // The plan names what launch makes; the run makes it and trusts the machines' keys.
    open_scenario(&browser, &server, "launch").await;
    let plan = browser.text_of("#launch-changes").await;
    for change in [
        "launch 2 × t3.micro (ami-12c6146b) for frontend",
        "launch 1 × t3.small (ami-12c6146b) for db",
    ] {
        assert!(plan.contains(change), "{change:?} not in {plan}");
    }
    let said = start_in_dialog(&browser, &server, "launch", DEPLOY).await;
    let from_console = said
        .iter()
        .filter(|line| line.contains("from the console output"))
        .count();
    assert_eq!(from_console, 3, "{said:?}");
    browser.open(&format!("{}/instances", server.url)).await;
    wait_for_demo(&browser, &["running"], true).await;

    // The cluster's page says what its running instances cost: 2 × t3.micro and a t3.small.
    browser
        .open(&format!("{}/clusters/{CLUSTER}", server.url))
        .await;
    let cost = browser
        .wait_for_text_containing(
            &format!("section[data-cluster='{CLUSTER}'] .cluster-cost"),
            "an hour",
        )
        .await;
    assert!(
        cost.contains("about $0.0416 an hour, $30.37 a month on demand"),
        "{cost}"
    );

    press_scenario(&browser, &server, "install", None, INSTALL).await;
    press_scenario(&browser, &server, "deploy", Some("v1"), DEPLOY).await;
    let frontends = served_by(&site, "v1").await;
    let (_, page) = visit(&site).await;
    for line in [
        // The app runs as its own account, not as the login user who deploys it.
        "<li>user app</li>",
        "<li>commit ",
        "<li>visits ",
        "<li>memcached hits ",
        "<li>redis hits ",
    ] {
        assert!(page.contains(line), "{line:?} not in {page}");
    }
    // Its static file, collected outside the release, is nginx's to serve (gunicorn serves none).
    let css = reqwest::get(format!("{site}/static/visits/site.css"))
        .await
        .expect("the site answers");
    assert_eq!(css.status().as_u16(), 200);
    let header = |name: &str| {
        css.headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(header("server").starts_with("nginx"), "{:?}", css.headers());
    assert_eq!(header("cache-control"), "max-age=604800");
    assert!(css.text().await.expect("text").contains("font-family"));

    press_scenario(&browser, &server, "deploy", Some("v2"), DEPLOY).await;
    assert_eq!(served_by(&site, "v2").await, frontends);
    let (_, page) = visit(&site).await;
    assert!(page.contains(" since v2)"), "{page}");

    // The rollback takes the schema back first, with v2's code: v2's column goes.
    let said = press_scenario(&browser, &server, "rollback", None, DEPLOY).await;
    assert!(
        said.iter()
            .any(|line| line.contains("Unapplying visits.0002_visit_release")),
        "{said:?}"
    );
    assert_eq!(served_by(&site, "v1").await, frontends);

    // v3's migration has no way back: its rollback is refused before anything changes.
    press_scenario(&browser, &server, "deploy", Some("v3"), DEPLOY).await;
    assert_eq!(served_by(&site, "v3").await, frontends);
    let (refused, log) = server
        .run_to_end(CLUSTER, "rollback", Duration::from_secs(DEPLOY))
        .await;
    assert_eq!(refused.status, RunStatus::Failed, "{log}");
    assert!(
        log.contains("a migration on the way cannot be reversed"),
        "{log}"
    );
    assert!(log.contains("IRREVERSIBLE"), "{log}");
    assert!(!log.contains("Unapplying"), "{log}");
    assert_eq!(served_by(&site, "v3").await, frontends);

    // Done: the three instances go, typed as their number, and the site with them.
    browser.open(&format!("{}/instances", server.url)).await;
    for instance in wait_for_demo(&browser, &["running"], true).await {
        browser
            .click(&format!(
                "tr[data-id='{}'] input[type=checkbox]",
                instance.id
            ))
            .await;
    }
    browser.click("#action-terminate").await;
    browser.replace_text("#terminate-confirm", "3").await;
    browser.click("#terminate-go").await;
    let gone = wait_for_demo(&browser, &["shutting-down", "terminated"], false).await;
    assert!(
        gone.iter().all(|instance| instance.ssh.is_none()),
        "{gone:?}"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while visit(&site).await.0 != 503 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the site still answers with its frontends terminated"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    browser.close().await;
    server.stop();
}
