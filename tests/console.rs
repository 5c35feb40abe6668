//! The console in headless Chromium, served by `knit serve --sandbox` with its own moto and sshd.

use fantoccini::Locator;

use crate::harness::{Browser, KnitServer, built_console};

#[tokio::test]
async fn the_console_shows_the_sandbox_banner_and_navigates_between_pages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let web = built_console();
    let server = KnitServer::start(
        &dir.path().join("data"),
        &[
            "--sandbox",
            "--sandbox-machines",
            "off",
            "--web-dir",
            web.to_str().expect("utf-8"),
        ],
    );
    let browser = Browser::start().await;

    // The sandbox prints its admin's one-time password when it starts; a visit before signing in
    // goes to the sign-in page, and back to the page asked for after it.
    let (name, password) = server
        .sandbox_sign_in
        .clone()
        .expect("the sandbox prints a sign-in");
    browser.open(&format!("{}/runs", server.url)).await;
    browser.wait_for_element("#login-name").await;
    assert_eq!(browser.path().await, "/login");
    browser.type_into("#login-name", &name).await;
    browser.type_into("#login-password", &password).await;
    browser.click("#login-submit").await;
    browser.wait_for_text("#signed-in-as", &name).await;
    assert_eq!(browser.path().await, "/runs");

    browser.open(&server.url).await;
    let banner = browser.text_of("#sandbox-banner").await;
    assert!(banner.starts_with("Sandbox"), "{banner}");
    assert!(banner.contains("not a real AWS account"), "{banner}");
    assert!(banner.contains("3 local SSH hosts"), "{banner}");
    browser.wait_for_text("main h1", "Instances").await;
    assert_eq!(browser.path().await, "/instances");

    for (link, path, heading) in [
        ("Launch", "/wizard/ami", "Launch instances"),
        ("Clusters", "/clusters", "Clusters"),
        ("Runs", "/runs", "Runs"),
        ("Instances", "/instances", "Instances"),
    ] {
        browser
            .client
            .find(Locator::LinkText(link))
            .await
            .unwrap_or_else(|error| panic!("no {link} link: {error}"))
            .click()
            .await
            .expect("click");
        browser.wait_for_text("main h1", heading).await;
        assert_eq!(browser.path().await, path);
        assert!(
            browser
                .text_of("#sandbox-banner")
                .await
                .starts_with("Sandbox"),
            "the banner stays on {path}"
        );
    }

    // The sandbox's demo cluster is listed with its machines and scenarios.
    browser.click("a[href^='/clusters']").await;
    let deploy = browser
        .text_of("section[data-cluster='sandbox.demo'] li[data-scenario='deploy_offline']")
        .await;
    assert!(
        deploy.contains("proxy.site_down") && deploy.contains("proxy.site_up"),
        "{deploy}"
    );
    let machines = browser
        .text_of("section[data-cluster='sandbox.demo'] table.machines")
        .await;
    assert!(machines.contains("knit-sandbox@127.0.0.1:"), "{machines}");

    // A page opened directly (a bookmark, a reload) is served by the console too.
    browser.open(&format!("{}/runs", server.url)).await;
    browser.wait_for_text("main h1", "Runs").await;

    browser.close().await;
    let status = server.stop();
    assert!(status.success(), "knit exited with {status}");
}
