//! Runs in the browser: a scenario button, its confirmation, the live progress grid and log, a
//! failing run with its `finally` steps, a reload mid-run, a connection dropped mid-run, and two
//! people pressing at once.

use std::time::Duration;

use fantoccini::Locator;
use knit_shared::{RunEvent, RunEventBody};

use crate::harness::{
    Browser, EventReader, KnitServer, Relay, TEST_ADMIN, TEST_PASSWORD, TestHosts, built_console,
    serve_cluster,
};

/// The `data-status` of every cell of the grid, as `(step, host, status)`.
async fn cells(browser: &Browser) -> Vec<(String, String, String)> {
    let mut cells = Vec::new();
    for cell in browser
        .client
        .find_all(Locator::Css("#progress-grid td[data-status]"))
        .await
        .expect("grid cells")
    {
        let attribute = |name: &'static str| {
            let cell = cell.clone();
            async move { cell.attr(name).await.ok().flatten().unwrap_or_default() }
        };
        cells.push((
            attribute("data-step").await,
            attribute("data-host").await,
            attribute("data-status").await,
        ));
    }
    cells
}

/// Waits (up to 15 s) until the browser leaves run page `first` for another run's.
async fn wait_for_another_run(browser: &Browser, first: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while browser.path().await == first {
        assert!(tokio::time::Instant::now() < deadline, "no new run");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the cluster's page and asks to run `scenario` of `cluster`.
async fn press(browser: &Browser, url: &str, cluster: &str, scenario: &str) {
    browser.open(&format!("{url}/clusters/{cluster}")).await;
    let button = format!("[data-cluster=\"{cluster}\"] [data-scenario=\"{scenario}\"] button");
    browser.text_of(&button).await;
    browser.click(&button).await;
    browser.text_of("#run-dialog").await;
}

const CLUSTER: &str = r#"[cluster.tags]
Stage = "Production"

[machines.web]
hosts = ["{HOST:web1}", "{HOST:web2}"]
[machines.web.roles.app]
kind = "shop"

[kinds.shop.tasks]
prepare = ["echo prepared {{ host }}"]
check = ["test $KNIT_SANDBOX_HOST != web2"]
after = ["echo after"]
cleanup = ["echo \"\u001b[32mcleaned up\u001b[0m on \"{{ host }}"]
chatty = ["for i in $(seq 1 120); do echo line $i of {{ host }}; sleep 0.05; done"]
# Runs until cancelled (a test's deadline ends it otherwise).
linger = ["echo lingering on {{ host }}; sleep 300"]

flood = ["if [ $KNIT_SANDBOX_HOST = web1 ]; then seq 1 100000; else echo quiet; fi"]
script = ["set -e\n# two lines of output\necho first of {{ host }}\necho second of {{ host }}"]
ship = ["echo shipping {{ ref }} in {{ color }}"]

[scenarios.rolling]
steps = ["app.prepare"]
serial = [1]

[scenarios.strict]
steps = ["app.prepare", "app.check", "app.after"]
finally = ["app.cleanup"]
[scenarios.chatty]
steps = ["app.chatty"]
[scenarios.linger]
steps = ["app.linger"]
[scenarios.flood]
steps = ["app.flood"]
[scenarios.script]
steps = ["app.script"]
[scenarios.ship]
steps = ["app.ship"]
[scenarios.ship.params.ref]
description = "what to ship"
default = "main"
[scenarios.ship.params.color]
choices = ["blue", "green"]
default = "blue"
"#;

async fn start_shop(dir: &std::path::Path) -> (TestHosts, knit::sandbox::Moto, KnitServer) {
    serve_cluster(dir, "shop", CLUSTER, &built_console()).await
}

#[tokio::test]
async fn a_failing_run_shows_the_failed_cell_and_the_finally_steps_after_typing_the_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_shop(dir.path()).await;
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    press(&browser, &server.url, "shop", "strict").await;

    // A production cluster: nothing runs until its name is typed.
    let go = browser
        .client
        .find(Locator::Css("#run-go"))
        .await
        .expect("button");
    assert!(!go.is_enabled().await.expect("enabled?"));
    browser.type_into("#run-confirm", "shop").await;
    // Enabled once the hosts are read too: the click waits for it.
    browser.click("#run-go").await;

    browser
        .wait_for_text_within("#run-status", "failed", 60)
        .await;
    let cells = cells(&browser).await;
    let status = |step: &str, host: &str| {
        cells
            .iter()
            .find(|(s, h, _)| s == step && h == host)
            .map(|(_, _, status)| status.clone())
            .unwrap_or_else(|| panic!("no cell {step}/{host}: {cells:?}"))
    };
    assert_eq!(status("1", "web-2"), "failed");
    assert_eq!(status("1", "web-1"), "ok");
    assert_eq!(status("2", "web-1"), "skipped");
    assert_eq!(status("3", "web-1"), "ok", "the finally step ran");
    assert_eq!(status("3", "web-2"), "ok", "the finally step ran");
    // The whole log is there to download.
    let id = browser.path().await.trim_start_matches("/runs/").to_owned();
    let link = browser
        .client
        .find(Locator::Css("#log-download"))
        .await
        .expect("download link");
    assert_eq!(
        link.attr("href").await.expect("href"),
        Some(format!("/api/runs/{id}/log"))
    );
    // After the end: no cancel, but a way to run it again.
    let displayed = |css: &'static str| {
        let browser = &browser;
        async move {
            let element = browser
                .client
                .find(Locator::Css(css))
                .await
                .expect("button");
            element.is_displayed().await.expect("displayed?")
        }
    };
    assert!(!displayed("#run-cancel").await);
    assert!(displayed("#run-again").await);
    assert_eq!(
        browser.text_of("#run-retry").await,
        "Retry the 2 hosts left undone"
    );
    // Colours of the output are rendered, not shown as escape codes.
    browser.select("#log-host", "web-2").await;
    let coloured = browser.text_of("#run-log .ansi-green").await;
    assert_eq!(coloured, "cleaned up");

    // Retry: a new run of the same scenario on the hosts left undone, linked both ways.
    // The cluster wants its name for a retry too.
    let first = browser.path().await;
    let retry = browser
        .client
        .find(Locator::Css("#run-retry"))
        .await
        .expect("button");
    assert!(!retry.is_enabled().await.expect("enabled?"));
    browser.type_into("#run-again-confirm", "shop").await;
    browser.click("#run-retry").await;
    wait_for_another_run(&browser, &first).await;
    let retried = first.trim_start_matches("/runs/");
    browser
        .wait_for_text_containing("#run-retry-of", &format!("run {retried}"))
        .await;
    browser
        .wait_for_text_within("#run-status", "failed", 60)
        .await;
    browser.open(&format!("{}{first}", server.url)).await;
    browser
        .wait_for_text_containing("#run-retries", "Retried by run")
        .await;
    browser.close().await;
    server.stop();
}

#[tokio::test]
async fn the_grid_shows_each_rolling_batch_as_a_band() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_shop(dir.path()).await;
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    press(&browser, &server.url, "shop", "rolling").await;
    browser.type_into("#run-confirm", "shop").await;
    browser.click("#run-go").await;
    browser.wait_for_text_within("#run-status", "ok", 60).await;
    let mut bands = Vec::new();
    for band in browser
        .client
        .find_all(Locator::Css("#progress-grid tr.batch-band"))
        .await
        .expect("bands")
    {
        bands.push(band.text().await.expect("text"));
    }
    assert_eq!(bands, ["Batch 1 of 2 · 1 host", "Batch 2 of 2 · 1 host"]);
    browser.close().await;
    server.stop();
}

#[tokio::test]
async fn a_reload_mid_run_continues_the_grid_and_log_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_shop(dir.path()).await;
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    press(&browser, &server.url, "shop", "chatty").await;
    browser.type_into("#run-confirm", "shop").await;
    browser.click("#run-go").await;
    browser.text_of("#log-count").await;
    let run_path = browser.path().await;

    // Reload once some lines are in, while the run goes on.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let count = log_count(&browser).await;
        if count > 20 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no lines came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(browser.text_of("#run-status").await, "running");
    browser.client.refresh().await.expect("reload");
    browser.wait_for_text_within("#run-status", "ok", 60).await;
    assert_eq!(browser.path().await, run_path);

    // The page holds exactly the stored log: one header per step and host, and every line.
    let (stored, last_line) = stored_log(&server, run_path.trim_start_matches("/runs/")).await;
    assert_eq!(log_count(&browser).await, stored);
    // Following the log, the page shows its last line.
    let log = browser.text_of("#run-log").await;
    assert!(
        log.contains(&last_line),
        "{last_line:?} not in view:\n{log}"
    );
    browser.close().await;
    server.stop();
}

#[tokio::test]
async fn a_connection_dropped_mid_run_is_made_again_and_the_page_follows_the_run_to_its_end() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gate = dir.path().join("gate");
    // The step waits for the test to open its gate (bounded, so that a broken test ends).
    let cluster = format!(
        "[machines.web]\nhosts = [\"{{HOST:web1}}\"]\n[machines.web.roles.app]\nkind = \"gated\"\n\
         [kinds.gated.tasks]\nwait = [\"echo before; for _ in $(seq 1 600); do [ -e {gate} ] && break; sleep 0.1; done; echo after\"]\n\
         [scenarios.gated]\nsteps = [\"app.wait\"]\n",
        gate = gate.display()
    );
    let (_hosts, _moto, server) =
        serve_cluster(dir.path(), "gated", &cluster, &built_console()).await;
    let relay = Relay::start(&server.url).await;
    let browser = Browser::start().await;
    browser
        .sign_in_as(&relay.url, TEST_ADMIN, TEST_PASSWORD)
        .await;
    press(&browser, &relay.url, "gated", "gated").await;
    browser.click("#run-go").await;
    browser.wait_for_text_containing("#run-log", "before").await;

    // The network drops the page's event stream; the run goes on and ends meanwhile.
    relay.cut();
    std::fs::write(&gate, "").expect("open the gate");
    browser.wait_for_text_within("#run-status", "ok", 60).await;
    browser.wait_for_text_containing("#run-log", "after").await;
    // Every stored line once: nothing lost in the gap, nothing shown twice after it.
    let id = browser.path().await.trim_start_matches("/runs/").to_owned();
    let (stored, _) = stored_log(&server, &id).await;
    assert_eq!(log_count(&browser).await, stored);
    browser.close().await;
    server.stop();
}

/// How many entries the log of run `id` has (a header per step and host, and every line), and
/// its last line, as stored.
async fn stored_log(server: &KnitServer, id: &str) -> (usize, String) {
    let mut response = server
        .get(&format!("/runs/{id}/events"))
        .await
        .expect("events");
    let mut reader = EventReader::default();
    let mut stored = 0;
    let mut last_line = String::new();
    while let Some(event) = reader.next::<RunEvent>(&mut response).await {
        match event.body {
            RunEventBody::StepStarted { .. } => stored += 1,
            RunEventBody::Line { text, .. } => {
                stored += 1;
                last_line = text;
            }
            _ => {}
        }
    }
    (stored, last_line)
}

/// How many entries the page's log shows.
async fn log_count(browser: &Browser) -> usize {
    browser
        .client
        .find(Locator::Css("#log-count"))
        .await
        .expect("log count")
        .attr("data-count")
        .await
        .expect("attribute")
        .and_then(|count| count.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn two_people_pressing_run_at_once_start_one_run_and_the_other_is_told_who_holds_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_shop(dir.path()).await;
    let (alice, bob) = tokio::join!(Browser::start(), Browser::start());
    for (name, browser) in [("alice", &alice), ("bob", &bob)] {
        server.add_user(name, "deployer");
        browser
            .sign_in_as(&server.url, name, crate::harness::TEST_PASSWORD)
            .await;
    }
    for browser in [&alice, &bob] {
        press(browser, &server.url, "shop", "linger").await;
        browser.type_into("#run-confirm", "shop").await;
    }
    tokio::join!(alice.click("#run-go"), bob.click("#run-go"));

    let mut started = Vec::new();
    let mut refused = Vec::new();
    for browser in [&alice, &bob] {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if browser.path().await.starts_with("/runs/") {
                started.push(browser.path().await);
                break;
            }
            if let Ok(notice) = browser.client.find(Locator::Css("#run-refused")).await {
                refused.push(notice.text().await.expect("text"));
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "neither started nor refused"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(started.len(), 1, "{started:?} {refused:?}");
    let id = started[0].trim_start_matches("/runs/");
    let runner = if alice.path().await.starts_with("/runs/") {
        "alice"
    } else {
        "bob"
    };
    assert!(
        refused[0].contains(&format!("run {id} by {runner}")),
        "{refused:?}"
    );

    // The clusters page says why its buttons wait.
    bob.open(&format!("{}/clusters", server.url)).await;
    let button = bob
        .client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(
            "[data-cluster=\"shop\"] [data-scenario=\"linger\"] button",
        ))
        .await
        .expect("button");
    assert!(!button.is_enabled().await.expect("enabled?"));
    let reason = button
        .attr("title")
        .await
        .expect("title")
        .unwrap_or_default();
    assert!(
        reason.contains(&format!("run {id} by {runner}")),
        "{reason}"
    );

    // The one who started it cancels it.
    let runner_name = runner;
    let runner = if runner == "alice" { &alice } else { &bob };
    runner.open(&format!("{}{}", server.url, started[0])).await;
    runner.text_of("#run-cancel").await;
    runner.click("#run-cancel").await;
    runner
        .wait_for_text_within("#run-status", "cancelled", 30)
        .await;
    assert!(runner.text_of(".run-header").await.contains("(took "));

    // The history finds it by status.
    runner
        .open(&format!("{}/runs?status=cancelled", server.url))
        .await;
    let row = format!("#runs-table tr[data-run=\"{id}\"]");
    let listed = runner.text_of(&row).await;
    assert!(
        listed.contains("linger") && listed.contains(runner_name),
        "{listed}"
    );
    runner.open(&format!("{}/runs?status=ok", server.url)).await;
    runner.text_of("main h1").await;
    assert!(
        runner
            .client
            .find(fantoccini::Locator::Css(&row))
            .await
            .is_err()
    );
    alice.close().await;
    bob.close().await;
    server.stop();
}

#[tokio::test]
async fn a_log_of_100000_lines_is_all_there_and_the_page_stays_usable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_shop(dir.path()).await;
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    press(&browser, &server.url, "shop", "flood").await;
    browser.type_into("#run-confirm", "shop").await;
    browser.click("#run-go").await;
    browser.wait_for_text_within("#run-status", "ok", 120).await;

    // Every line: 100,000 numbers, each host's header and command, and web-2's one line.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while log_count(&browser).await < 100_005 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} lines",
            log_count(&browser).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(log_count(&browser).await, 100_005);
    let log = browser.text_of("#run-log").await;
    assert!(
        log.lines().any(|line| line.ends_with("100000")),
        "the last line is in view"
    );
    // Only the lines in view are in the page.
    let drawn = browser
        .client
        .find_all(Locator::Css("#run-log .log-line"))
        .await
        .expect("lines");
    assert!(drawn.len() < 100, "{} lines drawn", drawn.len());
    // A search finds one line among them all and shows it, far from the end in view.
    browser.type_into("#log-search", "77777").await;
    browser.wait_for_text("#log-found", "1 of 1").await;
    let current = browser.text_of("#run-log .found.current").await;
    assert!(current.ends_with("77777"), "{current}");
    // A pattern finds more; Enter goes on to the next, and only those lines can be shown.
    browser.replace_text("#log-search", "/^9999[0-9]$/").await;
    browser.wait_for_text("#log-found", "1 of 10").await;
    browser.click("#log-next").await;
    browser.wait_for_text("#log-found", "2 of 10").await;
    assert!(
        browser
            .text_of("#run-log .found.current")
            .await
            .ends_with("99991")
    );
    browser.click("#log-only-found").await;
    browser.wait_for_text("#log-count", "10 lines").await;
    browser.replace_text("#log-search", "/(/").await;
    browser
        .wait_for_text_containing("#log-found", "is not a regular expression")
        .await;
    browser.replace_text("#log-search", "").await;
    browser.click("#log-only-found").await;
    // The page still answers: one host's log at once.
    browser.select("#log-host", "web-2").await;
    browser.wait_for_text("#log-count", "3 lines").await;
    assert!(browser.text_of("#run-log").await.contains("quiet"));
    browser.close().await;
    server.stop();
}

#[tokio::test]
async fn the_run_dialog_asks_for_each_parameter_and_run_again_keeps_the_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_shop(dir.path()).await;
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    press(&browser, &server.url, "shop", "ship").await;
    browser.type_into("#run-confirm", "shop").await;
    let go = browser
        .client
        .find(Locator::Css("#run-go"))
        .await
        .expect("button");
    // The default is offered; a value against the rule is said at once, and nothing can start.
    let field = browser
        .client
        .find(Locator::Css("#param-ref"))
        .await
        .expect("field");
    assert_eq!(
        field.prop("value").await.expect("value").as_deref(),
        Some("main")
    );
    browser.replace_text("#param-ref", "v2; id").await;
    browser
        .wait_for_text_containing("#param-ref-error", "must match")
        .await;
    assert!(!go.is_enabled().await.expect("enabled?"));
    browser.replace_text("#param-ref", "v2").await;
    browser.select("#param-color", "green").await;
    browser.click("#run-go").await;

    browser.wait_for_text_within("#run-status", "ok", 60).await;
    browser
        .wait_for_text_containing("#run-params", "color=green, ref=v2")
        .await;
    browser
        .wait_for_text_containing("#run-log", "shipping v2 in green")
        .await;
    let first = browser.path().await;
    browser.type_into("#run-again-confirm", "shop").await;
    browser.click("#run-again").await;
    wait_for_another_run(&browser, &first).await;
    browser.wait_for_text_within("#run-status", "ok", 60).await;
    browser
        .wait_for_text_containing("#run-params", "color=green, ref=v2")
        .await;
    // The list of runs says with what each ran, a page at a time: here one run a page.
    browser.open(&format!("{}/runs?limit=1", server.url)).await;
    browser
        .wait_for_text_containing("td.run-params", "color=green, ref=v2")
        .await;
    let rows = || async {
        browser
            .client
            .find_all(Locator::Css("#runs-table tbody tr"))
            .await
            .expect("rows")
            .len()
    };
    assert_eq!(rows().await, 1);
    browser.click("#runs-older").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while rows().await < 2 {
        assert!(tokio::time::Instant::now() < deadline, "no older run came");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The first run was the last: nothing older.
    browser.wait_for_gone("#runs-older").await;
    browser.close().await;
    server.stop();
}

#[tokio::test]
async fn the_run_dialog_lists_the_hosts_and_runs_on_those_left_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_shop(dir.path()).await;
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    press(&browser, &server.url, "shop", "ship").await;
    browser
        .wait_for_text_containing("#run-hosts", "web-2")
        .await;
    let hosts = browser.text_of("#run-hosts").await;
    assert!(hosts.contains("web") && hosts.contains("app"), "{hosts}");
    browser.click("#run-hosts input[data-host='web-2']").await;
    browser.type_into("#run-confirm", "shop").await;
    browser.click("#run-go").await;
    browser.wait_for_text_within("#run-status", "ok", 60).await;
    let ran_on: Vec<String> = cells(&browser)
        .await
        .into_iter()
        .map(|(_, host, _)| host)
        .collect();
    assert_eq!(ran_on, ["web-1"]);

    // Run again keeps the subset.
    let first = browser.path().await;
    browser.type_into("#run-again-confirm", "shop").await;
    browser.click("#run-again").await;
    wait_for_another_run(&browser, &first).await;
    browser.wait_for_text_within("#run-status", "ok", 60).await;
    let again: Vec<String> = cells(&browser)
        .await
        .into_iter()
        .map(|(_, host, _)| host)
        .collect();
    assert_eq!(again, ["web-1"]);
    browser.close().await;
    server.stop();
}

#[tokio::test]
async fn a_command_shows_as_its_headline_and_its_script_opens_on_a_click() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_shop(dir.path()).await;
    let run: knit_shared::RunSummary = server
        .post(
            "/runs",
            &knit_shared::StartRun {
                cluster: "shop".to_owned(),
                scenario: "script".to_owned(),
                confirm: Some("shop".to_owned()),
                ..knit_shared::StartRun::default()
            },
        )
        .await
        .json()
        .await
        .expect("run");
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    browser
        .open(&format!("{}/runs/{}", server.url, run.id))
        .await;
    browser.wait_for_text_within("#run-status", "ok", 60).await;
    browser.select("#log-host", "web-1").await;
    let log = browser
        .wait_for_text_containing("#run-log", "second of web-1")
        .await;
    // The headline is the script's first line that does something; the script is folded.
    assert!(log.contains("[app] $ echo first of 'web-1'"), "{log}");
    assert!(!log.contains("[app] > "), "{log}");
    browser.click("#run-log .fold").await;
    let opened = browser
        .wait_for_text_containing("#run-log", "[app] > set -e")
        .await;
    assert!(
        opened.contains("[app] > echo second of 'web-1'"),
        "{opened}"
    );
    browser.click("#run-log .fold").await;
    let folded = browser.text_of("#run-log").await;
    assert!(!folded.contains("[app] > "), "{folded}");
    // The download keeps everything.
    let download = server
        .get(&format!("/runs/{}/log", run.id))
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    assert!(
        download.contains("[app] > echo second of 'web-1'"),
        "{download}"
    );
    browser.close().await;
    server.stop();
}
