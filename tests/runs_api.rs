//! `/api/runs` on a real server: start, the lock between two requests, the live stream resumed
//! without gap or duplicate, the detail and the history, errors, and a server killed mid-run.

use std::path::Path;
use std::time::Duration;

use knit_shared::{
    CellStatus, RunDetail, RunEvent, RunEventBody, RunList, RunStatus, RunSummary, StartRun,
};

use crate::harness::{
    EventReader, KnitServer, TEST_ADMIN, TestHosts, dummy_web_dir, error_of, knit_command,
    serve_cluster, start_hosts, start_moto, start_postgres,
};

const CLUSTER: &str = r#"[machines.web]
hosts = ["{HOST:web1}", "{HOST:web2}"]
[machines.web.roles.app]
kind = "counter"

[kinds.counter.tasks]
count = ["for i in $(seq 1 40); do echo line $i on {{ host }}; sleep 0.01; done"]
pause = ["sleep 1"]
nap = ["echo before the nap; sleep 61.25"]
doze = ["echo before the doze; sleep 59.75"]

[scenarios.count]
steps = ["app.count", "app.pause", "app.count"]
[scenarios.nap]
steps = ["app.nap"]
[scenarios.doze]
steps = ["app.doze"]
"#;

/// The two hosts, moto and the server, with the cluster `api`.
async fn start_api(dir: &Path) -> (TestHosts, knit::sandbox::Moto, KnitServer) {
    serve_cluster(dir, "api", CLUSTER, &dummy_web_dir(dir)).await
}

async fn post_run(server: &KnitServer, cluster: &str, scenario: &str) -> reqwest::Response {
    server
        .client()
        .post(server.api("/runs"))
        .json(&StartRun {
            cluster: cluster.to_owned(),
            scenario: scenario.to_owned(),
            ..StartRun::default()
        })
        .send()
        .await
        .expect("request")
}

async fn events(server: &KnitServer, id: i64, after: Option<i64>) -> reqwest::Response {
    let mut request = server
        .client()
        .get(server.api(&format!("/runs/{id}/events")));
    if let Some(after) = after {
        request = request.header("Last-Event-ID", after.to_string());
    }
    request.send().await.expect("events")
}

/// Runs `scenario` of cluster `api` to its end.
async fn ended_run(server: &KnitServer, scenario: &str) -> RunSummary {
    let run: RunSummary = post_run(server, "api", scenario)
        .await
        .json()
        .await
        .expect("run JSON");
    read_to_end(events(server, run.id, None).await).await;
    run
}

/// Every event until the stream ends.
async fn read_to_end(mut response: reqwest::Response) -> Vec<RunEvent> {
    let mut reader = EventReader::default();
    let mut all = Vec::new();
    while let Some(event) = reader.next(&mut response).await {
        all.push(event);
    }
    all
}

/// Follows run `id` until `times` lines `text` were logged.
async fn wait_until_said(server: &KnitServer, id: i64, text: &str, times: usize) {
    let mut reader = EventReader::default();
    let mut response = events(server, id, None).await;
    let mut seen = 0;
    while seen < times {
        let event: RunEvent = reader.next(&mut response).await.expect("more events");
        if matches!(&event.body, RunEventBody::Line { text: line, .. } if line == text) {
            seen += 1;
        }
    }
}

async fn detail(server: &KnitServer, id: i64) -> RunDetail {
    server
        .get(&format!("/runs/{id}"))
        .await
        .expect("detail")
        .json()
        .await
        .expect("detail JSON")
}

#[tokio::test]
async fn runs_start_once_per_cluster_and_stream_resumes_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_api(dir.path()).await;

    let (first, second) = tokio::join!(
        post_run(&server, "api", "count"),
        post_run(&server, "api", "count")
    );
    let (started, refused) = if first.status() == 201 {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(started.status(), 201);
    let run: RunSummary = started.json().await.expect("run JSON");
    assert_eq!(
        (run.status, run.actor.as_str()),
        (RunStatus::Running, TEST_ADMIN)
    );
    let (status, message) = error_of(refused).await;
    assert_eq!(status, 409);
    assert!(
        message.contains(&format!("run {} by {TEST_ADMIN}", run.id)),
        "{message}"
    );

    // Read part of the stream, drop the connection, resume from the last id seen.
    let mut reader = EventReader::default();
    let mut response = events(&server, run.id, None).await;
    let mut seen: Vec<RunEvent> = Vec::new();
    while seen.len() < 25 {
        seen.push(reader.next(&mut response).await.expect("more events"));
    }
    drop(response);
    let resumed = read_to_end(events(&server, run.id, seen.last().map(|e| e.seq)).await).await;
    seen.extend(resumed);
    let numbers: Vec<i64> = seen.iter().map(|event| event.seq).collect();
    let expected: Vec<i64> = (1..=numbers.len() as i64).collect();
    assert_eq!(numbers, expected, "no gap, no duplicate");
    assert!(matches!(
        seen.last().map(|e| &e.body),
        Some(RunEventBody::RunFinished {
            status: RunStatus::Ok
        })
    ));
    // What was streamed live is what the store replays.
    assert_eq!(read_to_end(events(&server, run.id, None).await).await, seen);

    let detail = detail(&server, run.id).await;
    assert_eq!(detail.run.status, RunStatus::Ok);
    assert_eq!(detail.last_seq, numbers.len() as i64);
    let cells: Vec<_> = detail.grid.cells.iter().flatten().flatten().collect();
    assert_eq!(cells.len(), 6);
    assert!(cells.iter().all(|cell| cell.status == CellStatus::Ok));

    let history: RunList = server
        .get("/runs?cluster=api&status=ok")
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    assert_eq!(history.runs.len(), 1);
    let none: RunList = server
        .get("/runs?status=failed")
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    assert!(none.runs.is_empty());

    // Mistakes get a JSON error a person can act on.
    let (status, message) = error_of(post_run(&server, "nope", "count").await).await;
    assert_eq!(status, 404, "{message}");
    let (status, message) = error_of(post_run(&server, "api", "deploy").await).await;
    assert_eq!(status, 400);
    assert!(
        message.contains("has no scenario deploy; it has: count, doze, nap, install"),
        "{message}"
    );
    let (status, _) = error_of(server.get("/runs/abc").await.expect("get")).await;
    assert_eq!(status, 400);
    let (status, _) = error_of(server.get("/runs/999").await.expect("get")).await;
    assert_eq!(status, 404);
    let cancel = server
        .client()
        .post(server.api(&format!("/runs/{}/cancel", run.id)))
        .send()
        .await
        .expect("cancel");
    let (status, message) = error_of(cancel).await;
    assert_eq!(status, 409);
    assert!(message.contains("is ok"), "{message}");
    server.stop();
}

/// Whether a command of the `nap` task runs on this machine (the hosts are its sshd's).
fn napping() -> bool {
    std::process::Command::new("pgrep")
        .args(["-f", "^sleep 61.25$"])
        .output()
        .expect("pgrep")
        .status
        .success()
}

#[tokio::test]
async fn a_run_cut_short_by_a_killed_server_stops_its_commands_and_shows_as_interrupted_with_its_log()
 {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hosts, moto, server) = start_api(dir.path()).await;

    let run: RunSummary = post_run(&server, "api", "nap")
        .await
        .json()
        .await
        .expect("run JSON");
    wait_until_said(&server, run.id, "before the nap", 2).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !napping() {
        assert!(std::time::Instant::now() < deadline, "the nap never began");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Dropping the guard kills the server's whole process group at once: no graceful stop.
    drop(server);
    // Each command's lifeline channel closed with knit: the hosts stop the commands.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while napping() {
        assert!(
            std::time::Instant::now() < deadline,
            "the hosts' commands outlived the killed knit by 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let server = hosts.serve(&dir.path().join("data"), &moto, &dummy_web_dir(dir.path()));
    let detail = detail(&server, run.id).await;
    assert_eq!(detail.run.status, RunStatus::Interrupted);
    for cell in detail.grid.cells.iter().flatten().flatten() {
        assert_eq!(cell.status, CellStatus::Failed);
        assert!(
            cell.reason
                .as_deref()
                .is_some_and(|r| r.contains("interrupted"))
        );
    }
    let log = read_to_end(events(&server, run.id, None).await).await;
    let naps = log
        .iter()
        .filter(|e| matches!(&e.body, RunEventBody::Line { text, .. } if text == "before the nap"))
        .count();
    assert_eq!(naps, 2, "the log up to the kill is kept");
    assert!(matches!(
        log.last().map(|e| &e.body),
        Some(RunEventBody::RunFinished {
            status: RunStatus::Interrupted
        })
    ));
    // The cluster is free again.
    assert_eq!(post_run(&server, "api", "count").await.status(), 201);
    server.stop();
}

#[tokio::test]
async fn stopping_the_server_cancels_its_runs_and_stops_their_commands() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hosts, moto, server) = start_api(dir.path()).await;
    let run: RunSummary = post_run(&server, "api", "doze")
        .await
        .json()
        .await
        .expect("run JSON");
    wait_until_said(&server, run.id, "before the doze", 2).await;
    assert!(server.stop().success(), "knit stops cleanly on SIGTERM");

    let server = hosts.serve(&dir.path().join("data"), &moto, &dummy_web_dir(dir.path()));
    let detail = detail(&server, run.id).await;
    assert_eq!(detail.run.status, RunStatus::Cancelled);
    for cell in detail.grid.cells.iter().flatten().flatten() {
        assert_eq!(cell.status, CellStatus::Cancelled);
    }
    let sleeping = std::process::Command::new("pgrep")
        .args(["-f", "^sleep 59.75$"])
        .output()
        .expect("pgrep");
    assert!(
        !sleeping.status.success(),
        "the remote commands were stopped"
    );
    server.stop();
}

#[tokio::test]
async fn with_a_postgres_url_the_server_and_the_cli_share_the_history_and_the_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let postgres = start_postgres();
    let data = dir.path().join("data");
    let hosts = start_hosts(&data, &["web1", "web2"]).await;
    hosts.write_cluster("api", CLUSTER);
    let moto = start_moto(dir.path()).await;
    let web = dummy_web_dir(dir.path());
    let server = hosts.serve_with(&data, &moto, &web, &["--database-url", &postgres.url]);
    let cli = |scenario: &str| {
        knit_command()
            .arg("--clusters")
            .arg(&hosts.clusters)
            .arg("--data-dir")
            .arg(&data)
            .args(["--database-url", &postgres.url, "api", scenario])
            .output()
            .expect("knit runs")
    };

    let nap: RunSummary = post_run(&server, "api", "nap")
        .await
        .json()
        .await
        .expect("run JSON");
    wait_until_said(&server, nap.id, "before the nap", 2).await;
    let refused = cli("count");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains(&format!(
            "run {} by {TEST_ADMIN} (nap) is in progress",
            nap.id
        )),
        "{stderr}"
    );

    let cancel = server
        .client()
        .post(server.api(&format!("/runs/{}/cancel", nap.id)))
        .send()
        .await
        .expect("cancel");
    assert!(cancel.status().is_success());
    read_to_end(events(&server, nap.id, None).await).await;
    let counted = cli("count");
    assert!(
        counted.status.success(),
        "{}",
        String::from_utf8_lossy(&counted.stderr)
    );

    // The server lists the CLI's run, read back from PostgreSQL with its whole log.
    let history: RunList = server
        .get("/runs?cluster=api")
        .await
        .expect("list")
        .json()
        .await
        .expect("list JSON");
    let statuses: Vec<(&str, RunStatus)> = history
        .runs
        .iter()
        .map(|run| (run.scenario.as_str(), run.status))
        .collect();
    assert_eq!(
        statuses,
        [("count", RunStatus::Ok), ("nap", RunStatus::Cancelled)]
    );
    let log = read_to_end(events(&server, history.runs[0].id, None).await).await;
    let lines = crate::harness::lines_by_host(&log);
    let numbered: Vec<&String> = lines["web-1"]
        .iter()
        .filter(|line| line.starts_with("line "))
        .collect();
    assert_eq!(numbered.len(), 80, "{lines:?}");
    assert_eq!(
        numbered.last().map(|l| l.as_str()),
        Some("line 40 on web-1")
    );
    assert!(!data.join("knit.db").exists(), "nothing went to SQLite");
    server.stop();
}

#[tokio::test]
async fn a_database_that_cannot_be_written_refuses_new_runs_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hosts, moto, server) = start_api(dir.path()).await;
    let token = server.token.clone();
    assert!(server.stop().success());

    // The same database, now read-only: the server starts, shows what it has, runs nothing.
    let data = dir.path().join("data");
    let read_only = format!("sqlite:{}?mode=ro", data.join("knit.db").display());
    let web = dummy_web_dir(dir.path());
    let mut server = hosts.serve_with(&data, &moto, &web, &["--database-url", &read_only]);
    server.token = token;
    let runs = || async {
        let list: RunList = server
            .get("/runs")
            .await
            .expect("list")
            .json()
            .await
            .expect("list JSON");
        list.runs.len()
    };
    assert_eq!(runs().await, 0);
    let (status, message) = error_of(post_run(&server, "api", "count").await).await;
    assert_eq!(status, 503, "{message}");
    assert!(message.contains("read-only or out of space"), "{message}");
    // The run is refused when its record cannot be written, before any host is touched.
    assert_eq!(runs().await, 0);
    // So is an instance action, before EC2 is asked (its audit entry comes first).
    let stop = server
        .client()
        .post(server.api("/instances/actions"))
        .json(&serde_json::json!({
            "action": "stop",
            "instance_ids": ["i-0123456789abcdef0"],
        }))
        .send()
        .await
        .expect("action");
    let (status, message) = error_of(stop).await;
    assert_eq!(status, 503, "{message}");
    server.stop();
}

#[tokio::test]
async fn a_runs_log_downloads_whole_as_text_or_json_lines_for_one_host_or_all() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_api(dir.path()).await;
    let run = ended_run(&server, "count").await;
    let log = |query: &str| {
        let server = &server;
        let path = format!("/runs/{}/log{query}", run.id);
        async move { server.get(&path).await.expect("log") }
    };

    let text = log("").await;
    assert_eq!(text.status(), 200);
    let disposition = text.headers()["content-disposition"]
        .to_str()
        .expect("ascii");
    assert!(
        disposition.contains(&format!("knit-run-{}.log", run.id)),
        "{disposition}"
    );
    let text = text.text().await.expect("text");
    let numbered: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("| line "))
        .collect();
    // Two steps of 40 lines, on two hosts, each line whole with its time, host, step and stream.
    assert_eq!(numbered.len(), 160, "{text}");
    let first = numbered
        .iter()
        .find(|line| line.contains(" web-1 "))
        .expect("a line of web-1");
    let words: Vec<&str> = first.split(' ').collect();
    assert!(words[0].ends_with('Z') && words[0].contains('T'), "{first}");
    assert_eq!(
        &words[1..5],
        ["web-1", "app.count", "stdout", "|"],
        "{first}"
    );
    assert_eq!(words[5..].join(" "), "line 1 on web-1");

    let one: String = log("?host=web-2&format=jsonl")
        .await
        .text()
        .await
        .expect("jsonl");
    let lines: Vec<serde_json::Value> = one
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON object a line"))
        .collect();
    assert!(lines.iter().all(|line| line["host"] == "web-2"), "{one}");
    let counted: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["stream"] == "stdout")
        .collect();
    assert_eq!(counted.len(), 80);
    assert_eq!(counted[79]["text"], "line 40 on web-2");
    assert_eq!(counted[79]["step"], "app.count");

    let (status, message) = error_of(log("?host=web-9").await).await;
    assert_eq!(status, 400);
    assert!(
        message.contains("has no host web-9; its hosts are web-1, web-2"),
        "{message}"
    );
    let (status, _) = error_of(log("?format=pdf").await).await;
    assert_eq!(status, 400);
    let (status, message) = error_of(server.get("/runs/999/log").await.expect("log")).await;
    assert_eq!((status, message.as_str()), (404, "no run 999"));
    server.stop();
}

#[tokio::test]
async fn the_history_pages_through_1200_runs_newest_first_with_no_gap_or_repeat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) = start_api(dir.path()).await;
    // 1,200 runs recorded in the server's own database, a third of them of cluster api.
    let store = knit::store::Store::open(&format!(
        "sqlite:{}",
        dir.path().join("data/knit.db").display()
    ))
    .await
    .expect("the server's database");
    let plan = knit_shared::RunPlan {
        steps: Vec::new(),
        hosts: Vec::new(),
        batches: Vec::new(),
        stamp: String::new(),
    };
    let params = std::collections::BTreeMap::new();
    for n in 0..1200 {
        let run = knit::store::NewRun {
            cluster: if n % 3 == 0 { "api" } else { "other" },
            scenario: "count",
            actor: "ada",
            plan: &plan,
            params: &params,
            retry_of: None,
        };
        let id = store.start_run(&run).await.expect("insert").expect("free");
        store.finish_run(id, RunStatus::Ok).await.expect("finish");
    }
    let pages = |query: &'static str| {
        let server = &server;
        async move {
            let mut pages = Vec::new();
            let mut before = None;
            loop {
                let path = match before {
                    Some(before) => format!("/runs?{query}&before={before}"),
                    None => format!("/runs?{query}"),
                };
                let page: RunList = server.get_json(&path).await;
                pages.push(page.runs.iter().map(|run| run.id).collect::<Vec<i64>>());
                match page.next {
                    Some(next) => before = Some(next),
                    None => return pages,
                }
            }
        }
    };
    let every = pages("").await;
    assert_eq!(every.len(), 12, "pages of 100");
    assert!(every.iter().all(|page| page.len() == 100));
    let ids: Vec<i64> = every.concat();
    assert!(
        ids.windows(2).all(|pair| pair[0] > pair[1]),
        "newest first, once each"
    );
    assert_eq!(ids.len(), 1200);

    let api = pages("cluster=api&limit=500").await;
    assert_eq!(api.iter().map(Vec::len).collect::<Vec<_>>(), [400]);
    let wide = pages("limit=1000").await;
    assert_eq!(
        wide.iter().map(Vec::len).collect::<Vec<_>>(),
        [500, 500, 200]
    );
    server.stop();
}

#[tokio::test]
async fn with_keep_runs_days_the_lines_of_old_runs_go_and_the_runs_stay() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hosts, moto, server) = start_api(dir.path()).await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(ended_run(&server, "count").await.id);
    }
    server.stop();
    // The first run ended long ago (moved there in the database, as years would).
    let data = dir.path().join("data");
    let url = format!("sqlite:{}", data.join("knit.db").display());
    sqlx::any::install_default_drivers();
    let mut database = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("database");
    sqlx::query("UPDATE runs SET finished_at = '2020-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(ids[0])
        .execute(&mut database)
        .await
        .expect("age the run");

    let server = hosts.serve_with(
        &data,
        &moto,
        &dummy_web_dir(dir.path()),
        &["--keep-runs-days", "30"],
    );
    let lines_of = |id: i64| {
        let server = &server;
        async move {
            let log = server
                .get(&format!("/runs/{id}/log"))
                .await
                .expect("log")
                .text()
                .await
                .expect("text");
            log.lines().count()
        }
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while lines_of(ids[0]).await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the old run's lines stayed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // The old run is still listed with its grid; the recent one keeps its whole log.
    let old: RunDetail = server.get_json(&format!("/runs/{}", ids[0])).await;
    assert_eq!(old.run.status, RunStatus::Ok);
    assert!(
        old.grid
            .cells
            .iter()
            .flatten()
            .flatten()
            .all(|cell| cell.status == CellStatus::Ok)
    );
    assert!(lines_of(ids[1]).await >= 160);
    assert!(server.log().contains("deleted the log lines of old runs"));
    server.stop();
}

/// One host in `data` whose scenario `count` prints `lines` lines of `width` digits (the
/// digits 0 to 9 over and over), then `done talking`.
async fn talker(data: &Path, width: usize, lines: usize) -> TestHosts {
    let hosts = start_hosts(data, &["web1"]).await;
    let line: String = "0123456789".chars().cycle().take(width).collect();
    hosts.write_cluster(
        "api",
        &format!(
            "[machines.web]\nhosts = [\"{{HOST:web1}}\"]\n[machines.web.roles.app]\nkind = \"talker\"\n\n\
             [kinds.talker.tasks]\ntalk = [\"yes {line} | head -n {lines}; echo done talking\"]\n\n\
             [scenarios.count]\nsteps = [\"app.talk\"]\n"
        ),
    );
    hosts
}

#[tokio::test]
async fn a_runs_stored_log_stops_at_its_cap_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let hosts = talker(&data, 40, 60_000).await;
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve_with(
        &data,
        &moto,
        &dummy_web_dir(dir.path()),
        &["--run-log-cap-mb", "1"],
    );
    // 60,000 lines of 40 bytes: 2.4 MB of output, over the cap of 1 MB.
    let run = ended_run(&server, "count").await;
    let detail: RunDetail = server.get_json(&format!("/runs/{}", run.id)).await;
    assert_eq!(detail.run.status, RunStatus::Ok, "the steps go on");
    let log = server
        .get(&format!("/runs/{}/log", run.id))
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    let kept = log
        .lines()
        .filter(|line| line.ends_with("| 0123456789012345678901234567890123456789"))
        .count();
    assert!((24_000..=25_000).contains(&kept), "{kept} lines kept");
    assert_eq!(
        log.matches("reached its cap of 1 MB").count(),
        1,
        "said once"
    );
    // The script itself is in the log; its last line of output is not.
    assert!(
        !log.lines().any(|line| line.ends_with("| done talking")),
        "nothing after the cap"
    );
    server.stop();
}

/// A field of `/proc/PID/status` in kB, e.g. `VmHWM` (the peak resident memory).
fn memory_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

#[tokio::test]
async fn downloading_a_large_log_keeps_the_servers_memory_flat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let hosts = talker(&data, 100, 300_000).await;
    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(&data, &moto, &dummy_web_dir(dir.path()));
    // 300,000 lines of 100 bytes: 30 MB of log, more than the download may grow the server by.
    let run = ended_run(&server, "count").await;
    let pid = server.pid();
    // Forget the peak of the run itself: from here the peak is the download's.
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak");
    let before = memory_kb(pid, "VmHWM");
    let mut download = server
        .get(&format!("/runs/{}/log", run.id))
        .await
        .expect("log");
    let mut bytes = 0;
    while let Some(chunk) = download.chunk().await.expect("chunk") {
        bytes += chunk.len();
    }
    assert!(bytes > 30_000_000, "{bytes} bytes downloaded");
    let grown_kb = memory_kb(pid, "VmHWM").saturating_sub(before);
    assert!(
        grown_kb < 15_000,
        "the server grew by {grown_kb} kB to send a log of {bytes} bytes"
    );
    server.stop();
}
