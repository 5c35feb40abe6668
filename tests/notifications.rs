//! Notifications of runs (`[[cluster.notify]]`) to receivers on loopback: knit's JSON summary
//! and a Slack message, a receiver that fails twice and then answers, one that is not there;
//! the run's detail and its page say how each went, and a receiver's URL shows nowhere.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use knit_shared::{Delivery, RunDetail, RunSummary, StartRun};

use crate::harness::{Browser, KnitServer, built_console, start_hosts, start_moto};

/// What a receiver was sent: the path it was sent to, and the body.
type Received = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

#[derive(Clone)]
struct Receiver {
    received: Received,
    /// Requests answered 500 before the receiver starts to take them.
    failures_left: Arc<AtomicU32>,
}

/// A receiver on loopback that answers 500 to its first `failures` requests; its URL.
async fn start_receiver(failures: u32) -> (String, Received) {
    let receiver = Receiver {
        received: Received::default(),
        failures_left: Arc::new(AtomicU32::new(failures)),
    };
    let received = Arc::clone(&receiver.received);
    let app = axum::Router::new()
        .route("/{*path}", axum::routing::post(take))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("receiver port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn take(
    State(receiver): State<Receiver>,
    Path(path): Path<String>,
    Json(body): Json<serde_json::Value>,
) -> StatusCode {
    let failing = receiver
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok();
    if failing {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    receiver.received.lock().expect("lock").push((path, body));
    StatusCode::NO_CONTENT
}

/// Polls run `id` until none of its notifications is pending and there are `count`.
async fn settled(server: &KnitServer, id: i64, count: usize) -> (RunDetail, String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let answer = server
            .get(&format!("/runs/{id}"))
            .await
            .expect("detail")
            .text()
            .await
            .expect("text");
        let detail: RunDetail = serde_json::from_str(&answer).expect("detail JSON");
        let pending = detail
            .notifications
            .iter()
            .any(|delivery| delivery.status == "pending");
        if detail.notifications.len() == count && !pending {
            return (detail, answer);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "notifications of run {id}: {:?}",
            detail.notifications
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn delivery<'a>(detail: &'a RunDetail, event: &str, receiver: usize) -> &'a Delivery {
    detail
        .notifications
        .iter()
        .filter(|delivery| delivery.event == event)
        .nth(receiver)
        .unwrap_or_else(|| {
            panic!(
                "no {event} notification {receiver}: {:?}",
                detail.notifications
            )
        })
}

#[tokio::test]
async fn runs_are_told_to_receivers_with_retries_and_a_dead_one_is_said_on_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (team, team_got) = start_receiver(0).await;
    let (slack, slack_got) = start_receiver(2).await;
    let dead = format!(
        "http://127.0.0.1:{}",
        knit::sandbox::free_port().expect("port")
    );
    let data = dir.path().join("data");
    let hosts = start_hosts(&data, &["web1", "web2"]).await;
    hosts.write_cluster(
        "shop",
        &format!(
            "[[cluster.notify]]\nurl = \"{team}/hooks/secret-token-1\"\n\
             [[cluster.notify]]\nurl = \"{slack}/services/secret-token-2\"\nformat = \"slack\"\non = [\"success\", \"failure\"]\n\
             [[cluster.notify]]\nurl = \"{dead}/secret-token-3\"\non = [\"failure\"]\n\n\
             [machines.web]\nhosts = [\"{{HOST:web1}}\", \"{{HOST:web2}}\"]\n[machines.web.roles.app]\nkind = \"shop\"\n\n\
             [kinds.shop.tasks]\ngreet = [\"echo hello\"]\nbreak = [\"test $KNIT_SANDBOX_HOST != web2\"]\n\n\
             [scenarios.greet]\nsteps = [\"app.greet\"]\n[scenarios.broken]\nsteps = [\"app.break\"]\n"
        ),
    );
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve_with(
        &data,
        &moto,
        &built_console(),
        &["--public-url", "https://knit.example/"],
    );
    let start = |scenario: &str| {
        let request = StartRun {
            cluster: "shop".to_owned(),
            scenario: scenario.to_owned(),
            ..StartRun::default()
        };
        let server = &server;
        async move {
            let run: RunSummary = server
                .post("/runs", &request)
                .await
                .json()
                .await
                .expect("run JSON");
            run.id
        }
    };

    // A run that ends well: the team hears of its start and end, Slack of its end (on the
    // third try), and the dead receiver of nothing.
    let greet = start("greet").await;
    let (detail, answer) = settled(&server, greet, 3).await;
    assert_eq!(delivery(&detail, "start", 0).status, "delivered");
    assert_eq!(delivery(&detail, "success", 0).status, "delivered");
    let to_slack = delivery(&detail, "success", 1);
    assert_eq!(
        (to_slack.status.as_str(), to_slack.attempts),
        ("delivered", 3)
    );
    assert_eq!(to_slack.receiver, "127.0.0.1");
    {
        let got = team_got.lock().expect("lock");
        let told = |event: &str| {
            got.iter()
                .find(|(_, body)| body["event"] == event)
                .unwrap_or_else(|| panic!("no {event} in {got:?}"))
        };
        let (path, start) = told("start");
        assert_eq!(path, "hooks/secret-token-1");
        assert_eq!(start["event"], "start");
        assert_eq!(start["run"], greet);
        assert_eq!(start["cluster"], "shop");
        assert_eq!(start["scenario"], "greet");
        assert_eq!(start["status"], "running");
        assert_eq!(start["hosts"], 2);
        let end = &told("success").1;
        assert_eq!(end["event"], "success");
        assert_eq!(end["status"], "ok");
        assert_eq!(end["hosts_failed"], 0);
        assert!(end["duration_ms"].as_u64().is_some(), "{end}");
        assert_eq!(end["link"], format!("https://knit.example/runs/{greet}"));
        let text = slack_got.lock().expect("lock")[0].1["text"].clone();
        let text = text.as_str().expect("text");
        assert!(text.contains("greet on shop by "), "{text}");
        assert!(text.contains("succeeded on 2 hosts"), "{text}");
        assert!(
            text.ends_with(&format!("<https://knit.example/runs/{greet}|run {greet}>")),
            "{text}"
        );
    }

    // A run that fails on one host: everyone hears of it; the dead receiver's failure is
    // recorded with the run, after its tries.
    let broken = start("broken").await;
    let (detail, answer_broken) = settled(&server, broken, 4).await;
    let failure = team_got
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, body)| body.clone())
        .find(|body| body["event"] == "failure" && body["run"] == broken)
        .expect("the failure told to the team");
    assert_eq!(failure["event"], "failure");
    assert_eq!(failure["status"], "failed");
    assert_eq!(failure["hosts_failed"], 1);
    let to_dead = delivery(&detail, "failure", 2);
    assert_eq!((to_dead.status.as_str(), to_dead.attempts), ("failed", 4));
    assert!(to_dead.error.is_some(), "{to_dead:?}");

    // The URLs are secrets: not in the API's answers, nor in the server's log.
    for text in [answer, answer_broken, server.log()] {
        assert!(!text.contains("secret-token"), "{text}");
    }

    // The run's page says how each went.
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    browser.open(&format!("{}/runs/{broken}", server.url)).await;
    let said = browser.text_of("#run-notifications").await;
    assert!(
        said.contains("Notified of failure → 127.0.0.1: delivered"),
        "{said}"
    );
    assert!(said.contains("not delivered after 4 tries"), "{said}");
    browser.close().await;
    server.stop();
}

/// A receiver on loopback that answers every request with a redirect to `to`; its URL.
async fn start_redirector(to: String) -> String {
    let app = axum::Router::new().route(
        "/{*path}",
        axum::routing::post(move || {
            let to = to.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [("location", to)]) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("redirector port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_a_variable_that_holds_no_url_is_not_shown() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (trap, trap_got) = start_receiver(0).await;
    let redirector = start_redirector(format!("{trap}/elsewhere")).await;
    let data = dir.path().join("data");
    let hosts = start_hosts(&data, &["web1"]).await;
    hosts.write_cluster(
        "shop",
        &format!(
            "[[cluster.notify]]\nurl = \"{redirector}/hook\"\non = [\"success\"]\n\
             [[cluster.notify]]\nurl_env = \"KNIT_HOOK_BY_MISTAKE\"\non = [\"success\"]\n\n\
             [machines.web]\nhosts = [\"{{HOST:web1}}\"]\n[machines.web.roles.app]\nkind = \"shop\"\n\n\
             [kinds.shop.tasks]\ngreet = [\"echo hello\"]\n\n[scenarios.greet]\nsteps = [\"app.greet\"]\n"
        ),
    );
    let moto = start_moto(dir.path()).await;
    let endpoint = moto.endpoint();
    let web = crate::harness::dummy_web_dir(dir.path());
    let clusters = hosts.clusters.to_str().expect("utf-8").to_owned();
    let server = KnitServer::start_with(
        &data,
        &[
            "--ec2-endpoint",
            &endpoint,
            "--web-dir",
            web.to_str().expect("utf-8"),
            "--clusters",
            &clusters,
        ],
        // A secret, not a URL, in the variable: nothing of it may show.
        |command| {
            command.env("KNIT_HOOK_BY_MISTAKE", "wJalrXUtnFEMI/K7MDENG-not-a-url");
        },
    );
    let request = StartRun {
        cluster: "shop".to_owned(),
        scenario: "greet".to_owned(),
        ..StartRun::default()
    };
    let run: RunSummary = server
        .post("/runs", &request)
        .await
        .json()
        .await
        .expect("run");
    let (detail, answer) = settled(&server, run.id, 2).await;
    let redirected = delivery(&detail, "success", 0);
    assert_eq!(redirected.status, "failed", "{redirected:?}");
    let mistaken = delivery(&detail, "success", 1);
    assert_eq!(
        (mistaken.status.as_str(), mistaken.receiver.as_str()),
        ("failed", "(not a URL)")
    );
    assert!(
        trap_got.lock().expect("lock").is_empty(),
        "the redirect was followed"
    );
    for text in [answer, server.log()] {
        assert!(!text.contains("wJalrXUtnFEMI"), "{text}");
    }
    server.stop();
}

#[tokio::test]
async fn a_run_awaiting_an_approver_is_told_as_approval() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (team, team_got) = start_receiver(0).await;
    let data = dir.path().join("data");
    let hosts = start_hosts(&data, &["web1"]).await;
    hosts.write_cluster(
        "gated",
        &format!(
            "approvers = [\"ada\"]\napproval = [\"greet\"]\n\n\
             [[cluster.notify]]\nurl = \"{team}/hooks/gate\"\non = [\"approval\"]\n\n\
             [machines.web]\nhosts = [\"{{HOST:web1}}\"]\n[machines.web.roles.app]\nkind = \"shop\"\n\n\
             [kinds.shop.tasks]\ngreet = [\"echo hello\"]\n\n[scenarios.greet]\nsteps = [\"app.greet\"]\n"
        ),
    );
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(&data, &moto, &crate::harness::dummy_web_dir(dir.path()));
    let request = StartRun {
        cluster: "gated".to_owned(),
        scenario: "greet".to_owned(),
        ..StartRun::default()
    };
    let run: RunSummary = server
        .post("/runs", &request)
        .await
        .json()
        .await
        .expect("run");
    let (detail, _) = settled(&server, run.id, 1).await;
    assert_eq!(delivery(&detail, "approval", 0).status, "delivered");
    let got = team_got.lock().expect("lock").clone();
    let (path, body) = got.first().expect("told");
    assert_eq!(path, "hooks/gate");
    assert_eq!(body["event"], "approval");
    assert_eq!(body["status"], "awaiting_approval");
    assert_eq!(body["run"], run.id);
    server.stop();
}
