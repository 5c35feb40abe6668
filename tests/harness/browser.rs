//! Headless Chromium driven over WebDriver (Debian's chromium and chromium-driver).

use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use super::process::ProcessGroup;

#[derive(Debug)]
pub struct Browser {
    pub client: Client,
    _profile: tempfile::TempDir,
    _driver: ProcessGroup,
}

impl Browser {
    pub async fn start() -> Self {
        let port = knit::sandbox::free_port().expect("free port");
        let mut command = Command::new("chromedriver");
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let driver = ProcessGroup::spawn(command)
            .expect("chromedriver runs (Debian: chromium-driver; the README's set-up installs it)");
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }
        });
        let capabilities = capabilities
            .as_object()
            .expect("capabilities are an object")
            .clone();
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        _profile: profile,
                        _driver: driver,
                    };
                }
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot start Chromium through chromedriver: {last_error}");
    }

    /// The text of the first element matching `css`, waiting up to 15 s for it to appear.
    pub async fn text_of(&self, css: &str) -> String {
        let element = self.element(css).await;
        element.text().await.expect("element text")
    }

    /// Waits up to 15 s until the first element matching `css` has exactly `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        self.wait_for_text_within(css, text, 15).await;
    }

    /// Waits up to `seconds` until the first element matching `css` has exactly `text`.
    pub async fn wait_for_text_within(&self, css: &str, text: &str, seconds: u64) {
        self.wait_until_shown(css, seconds, |seen| seen == text)
            .await
            .unwrap_or_else(|seen| {
                panic!("{css:?} shows {seen:?}, not {text:?} after {seconds} s")
            });
    }

    /// Waits up to 15 s until the first element matching `css` has `part` in its text;
    /// returns the text.
    pub async fn wait_for_text_containing(&self, css: &str, part: &str) -> String {
        self.wait_until_shown(css, 15, |seen| seen.contains(part))
            .await
            .map_err(|seen| panic!("{css:?} shows {seen:?}, without {part:?} after 15 s"))
            .unwrap_or_default()
    }

    /// Waits up to 15 s until no element matches `css`.
    pub async fn wait_for_gone(&self, css: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while self.client.find(Locator::Css(css)).await.is_ok() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css:?} is still there after 15 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the first element matching `css` once `good` holds for it, or the last
    /// text seen when `seconds` passed.
    pub async fn wait_until_shown(
        &self,
        css: &str,
        seconds: u64,
        good: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        let mut seen = String::new();
        while tokio::time::Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                seen = element.text().await.unwrap_or_default();
                if good(&seen) {
                    return Ok(seen);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(seen)
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn open(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("cannot open {url}: {error}"));
    }

    /// Clicks the first element matching `css` once it is there and enabled (up to 15 s each):
    /// a click on a button still disabled, waiting for what it needs to load, does nothing.
    pub async fn click(&self, css: &str) {
        let element = self.element(css).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !element.is_enabled().await.unwrap_or(true) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{css:?} is still disabled after 15 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        element
            .click()
            .await
            .unwrap_or_else(|error| panic!("cannot click {css:?}: {error}"));
    }

    /// Chooses `value` in the `<select>` matching `css`, waiting up to 15 s for that option.
    pub async fn select(&self, css: &str, value: &str) {
        let option = format!("{css} option[value=\"{value}\"]");
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(&option))
            .await
            .unwrap_or_else(|error| panic!("no option {option:?} appeared: {error}"));
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no element {css:?}: {error}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|error| panic!("cannot choose {value} in {css:?}: {error}"));
    }

    /// Types `text` into the first element matching `css`, which must be there.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no element {css:?} to type into: {error}"))
            .send_keys(text)
            .await
            .unwrap_or_else(|error| panic!("cannot type into {css:?}: {error}"));
    }

    /// Empties the field `css`, then types `text` into it.
    pub async fn replace_text(&self, css: &str, text: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no element {css:?} to type into: {error}"))
            .clear()
            .await
            .unwrap_or_else(|error| panic!("cannot empty {css:?}: {error}"));
        self.type_into(css, text).await;
    }

    /// Signs in at `url`'s sign-in page as `name` with `password`, and waits until the console
    /// shows who is signed in.
    pub async fn sign_in_as(&self, url: &str, name: &str, password: &str) {
        self.open(&format!("{url}/login")).await;
        self.wait_for_element("#login-name").await;
        self.type_into("#login-name", name).await;
        self.type_into("#login-password", password).await;
        self.click("#login-submit").await;
        self.wait_for_text("#signed-in-as", name).await;
    }

    /// Signs in to `server` as its test admin.
    pub async fn sign_in(&self, server: &super::KnitServer) {
        self.sign_in_as(&server.url, super::TEST_ADMIN, super::TEST_PASSWORD)
            .await;
    }

    /// Waits up to 15 s for an element matching `css`.
    pub async fn wait_for_element(&self, css: &str) {
        self.element(css).await;
    }

    /// The first element matching `css`, waiting up to 15 s for it. A page that is navigating
    /// (the console sends a signed-out visitor to the sign-in page) makes a look fail: look
    /// again then.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(error) if tokio::time::Instant::now() >= deadline => {
                    panic!("no element {css:?} appeared: {error}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("url")
            .path()
            .to_owned()
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
