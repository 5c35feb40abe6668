//! The account page in headless Chromium: an admin adds an account and makes a token; the new
//! deployer sees only what the role may do; the API page lists every operation.

use fantoccini::Locator;
use reqwest::Method;

use crate::harness::{
    Browser, KnitServer, TEST_ADMIN, TEST_PASSWORD, built_console, client_with, signed_in_as,
    start_moto,
};

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
    browser.replace_text("#token-days", "7").await;
    browser.type_into("#token-password", TEST_PASSWORD).await;
    browser.click("#token-create").await;
    let token = browser.text_of("#token-secret").await;
    let me = signed_in_as(&client_with(&token), &server).await;
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
        .find_all(Locator::Css(".top-bar nav a"))
        .await
        .expect("links")
    {
        sections.push(link.text().await.expect("text"));
    }
    assert_eq!(sections, ["Instances", "Clusters", "Runs", "API", "Docs"]);
    browser.open(&format!("{}/instances", server.url)).await;
    browser.wait_for_element("#action-stop").await;
    assert!(
        browser
            .client
            .find(Locator::Css("#action-terminate"))
            .await
            .is_err()
    );
    // The API's own page lists every operation of the document.
    browser.open(&format!("{}/api-docs", server.url)).await;
    browser.wait_for_element("#api-operations details").await;
    let operations = browser
        .client
        .find_all(Locator::Css("#api-operations details"))
        .await
        .expect("operations");
    let mut documented: Vec<(Method, &str)> = crate::accounts::routes()
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
