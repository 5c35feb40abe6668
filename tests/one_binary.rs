//! knit built with the console inside (`embed-console`): started from an empty folder with no
//! `--web-dir`, it serves the console it was built with, under a policy that lets it run.

use crate::harness::{Browser, KnitServer, built_console, start_moto};

#[tokio::test]
async fn the_console_built_into_knit_needs_nothing_beside_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("empty folder");
    let endpoint = moto.endpoint();
    let server = KnitServer::start_with(
        &dir.path().join("data"),
        &["--ec2-endpoint", &endpoint],
        |command| {
            command.current_dir(&empty).env_remove("KNIT_WEB_DIR");
        },
    );

    // A console route answers with the index.html built with knit, allowed by its hash.
    let built = built_console();
    let response = server
        .client()
        .get(format!("{}/instances", server.url))
        .send()
        .await
        .expect("page");
    assert_eq!(response.status(), 200);
    let policy = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .expect("a policy")
        .to_owned();
    let index = response.text().await.expect("index.html");
    assert_eq!(
        index,
        std::fs::read_to_string(built.join("index.html")).expect("built index.html")
    );
    // The policy allows the inline scripts of the console's page and of the manual's pages.
    let mut pages = vec![index];
    for entry in std::fs::read_dir(built.join("docs")).expect("the built manual") {
        let path = entry.expect("an entry").path();
        if path
            .extension()
            .is_some_and(|extension| extension == "html")
        {
            pages.push(std::fs::read_to_string(path).expect("a page"));
        }
    }
    assert_eq!(
        policy,
        knit::security_headers::content_security_policy(&pages)
    );
    assert!(policy.contains("'sha256-"), "{policy}");

    // Its WebAssembly, as Trunk wrote it, with the type browsers require.
    let wasm = std::fs::read_dir(&built)
        .expect("dist")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .find(|name| name.ends_with(".wasm"))
        .expect("a .wasm file");
    let response = server
        .client()
        .get(format!("{}/{wasm}", server.url))
        .send()
        .await
        .expect("wasm");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/wasm")
    );
    let bytes = response.bytes().await.expect("bytes");
    assert!(bytes == std::fs::read(built.join(&wasm)).expect("built wasm"));
    assert!(
        std::fs::read_dir(&empty).expect("empty").next().is_none(),
        "knit wrote nothing in its working folder"
    );

    // And it runs in a browser: the policy lets its scripts start, and the manual's (which mark
    // the page `js`), a click away in the top bar.
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    browser.click(".top-bar a[href='/docs/']").await;
    browser.wait_for_element("html.js #mdbook-sidebar").await;
    assert_eq!(browser.path().await, "/docs/");
    browser.open(&format!("{}/docs", server.url)).await;
    browser.wait_for_element("html.js #mdbook-sidebar").await;
    assert_eq!(browser.path().await, "/docs/");
    browser.close().await;
}
