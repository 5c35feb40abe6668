//! Scenario parameters and run-once steps against real sshd hosts: values reach the templates
//! (over a role's setting of the same name), every refusal starts nothing, secret values are
//! hidden in logs and answers, and a `once` step runs on one host, the first still in the run.

use std::path::Path;

use knit::store::{Actor, Store};
use knit_shared::StartRun;
use knit_shared::{CellStatus, RunEventBody, RunQuery, RunStatus, RunSummary};
use serde_json::{Value, json};

use crate::harness::{TestHosts, dummy_web_dir, error_of, serve_cluster, start_hosts};

const RELEASE: &str = r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "shipper"
ref = "from-the-role"

[kinds.shipper.tasks]
ship = ["echo shipping {{ ref }} as {{ params.ref }} in {{ color }} with token {{ token }}"]

[scenarios.deploy]
steps = ["app.ship"]
[scenarios.deploy.params.ref]
description = "branch, tag or commit to deploy"
default = "main"
[scenarios.deploy.params.color]
choices = ["blue", "green"]
default = "blue"
[scenarios.deploy.params.token]
secret = true
"#;

const TOKEN: &str = "tok-9d1c27ee";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn recorded_runs(data: &Path) -> Vec<RunSummary> {
    let url = format!("sqlite:{}", data.join("knit.db").display());
    let store = Store::open(&url).await.expect("open database");
    store.runs(&RunQuery::default(), 100).await.expect("runs")
}

#[tokio::test]
async fn parameters_reach_the_templates_and_a_refused_value_starts_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster("shop", RELEASE);
    let token = format!("token={TOKEN}");

    let defaults = hosts.knit(data, &["shop", "deploy", "--set", &token]);
    let out = text(&defaults.stdout);
    assert!(defaults.status.success(), "{out}{}", text(&defaults.stderr));
    assert!(
        out.contains("shipping main as main in blue with token ****"),
        "{out}"
    );
    let given = hosts.knit(
        data,
        &[
            "shop",
            "deploy",
            "--set",
            "ref=v2.1",
            "--set",
            "color=green",
            "--set",
            &token,
        ],
    );
    let out = text(&given.stdout);
    assert!(out.contains("shipping v2.1 as v2.1 in green"), "{out}");
    assert!(!out.contains(TOKEN), "{out}");

    let marker = dir.path().join("injected");
    let injection = format!("ref=v1; touch {}", marker.display());
    for (args, says) in [
        (
            vec!["--set", "refs=v1", "--set", &token],
            "unknown parameter refs",
        ),
        (vec![], "parameter token is required"),
        (
            vec!["--set", &injection, "--set", &token],
            "parameter ref must match",
        ),
        (
            vec!["--set", "ref=$(id)", "--set", &token],
            "parameter ref must match",
        ),
        (
            vec!["--set", "ref=v1\nid", "--set", &token],
            "parameter ref must match",
        ),
        (
            vec!["--set", "color=red", "--set", &token],
            "must be one of blue, green",
        ),
    ] {
        let mut all = vec!["shop", "deploy"];
        all.extend(args);
        let refused = hosts.knit(data, &all);
        assert_eq!(refused.status.code(), Some(2), "{all:?}");
        assert!(
            text(&refused.stderr).contains(says),
            "{all:?}: {}",
            text(&refused.stderr)
        );
    }
    assert!(!marker.exists());
    let runs = recorded_runs(data).await;
    assert_eq!(runs.len(), 2, "nothing started for a refused value");
    let newest = &runs[0];
    let expected: Vec<(&str, &str)> = vec![("color", "green"), ("ref", "v2.1"), ("token", "****")];
    let recorded: Vec<(&str, &str)> = newest
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(recorded, expected);
}

#[tokio::test]
async fn the_api_takes_parameters_refuses_bad_ones_and_never_shows_a_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_hosts, _moto, server) =
        serve_cluster(dir.path(), "shop", RELEASE, &dummy_web_dir(dir.path())).await;
    let start = |params: Value| {
        let body = json!({"cluster": "shop", "scenario": "deploy", "params": params});
        let server = &server;
        async move { server.post("/runs", &body).await }
    };
    let (status, message) = error_of(start(json!({"ref": "$(id)", "token": TOKEN})).await).await;
    assert_eq!(status, 400);
    assert!(message.contains("parameter ref must match"), "{message}");
    let (status, message) = error_of(start(json!({"ref": "v3"})).await).await;
    assert_eq!(
        (status, message.contains("token is required")),
        (400, true),
        "{message}"
    );

    let run: RunSummary = start(json!({"ref": "v3", "token": TOKEN}))
        .await
        .json()
        .await
        .expect("run");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    let detail = loop {
        let detail: Value = server.get_json(&format!("/runs/{}", run.id)).await;
        if detail["run"]["status"] != json!("running") {
            break detail;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run did not end"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(detail["run"]["status"], json!("ok"), "{detail}");
    assert_eq!(
        detail["run"]["params"],
        json!({"color": "blue", "ref": "v3", "token": "****"})
    );
    let list: Value = server.get_json("/runs").await;
    assert_eq!(list["runs"][0]["params"]["ref"], json!("v3"));
    let events = server
        .get(&format!("/runs/{}/events", run.id))
        .await
        .expect("events")
        .text()
        .await
        .expect("body");
    assert!(
        events.contains("shipping v3 as v3 in blue with token ****"),
        "{events}"
    );
    for answer in [detail.to_string(), list.to_string(), events] {
        assert!(!answer.contains(TOKEN));
    }
    server.stop();
}

const ONCE: &str = r#"[machines.web]
hosts = [{HOSTS}]
[machines.web.roles.app]
kind = "migrating"

[kinds.migrating.tasks]
hello = ["echo hello from {{ host }}"]
migrate = ["echo migrated on {{ host }}"]

[scenarios.deploy]
steps = ["app.hello", { step = "app.migrate", once = true }]
[scenarios.migrate]
steps = [{ step = "ALL.migrate", once = true }]
"#;

/// Runs `scenario` of cluster `name`: who said "migrated", and the detail of the run.
async fn migrated_on(
    hosts: &TestHosts,
    dir: &Path,
    name: &str,
    scenario: &str,
    request: StartRun,
) -> (Vec<String>, knit_shared::RunDetail) {
    let definition = hosts.definition(name);
    let runs = hosts.runs(dir).await;
    let plan = definition
        .plan(
            knit::clusters::Library::builtin(),
            &definition.static_hosts(),
            &StartRun {
                scenario: scenario.to_owned(),
                ..request
            },
            &knit::clusters::run_stamp(),
        )
        .expect("plan");
    let mut started = runs
        .start(&definition, plan, &Actor::named("test"))
        .await
        .expect("starts");
    let mut migrated = Vec::new();
    while let Ok(event) = started.live.recv().await {
        if let RunEventBody::Line { host, text, .. } = event.body
            && text.starts_with("migrated on")
        {
            migrated.push(host);
        }
    }
    started.done.await.expect("ends");
    let detail = runs
        .detail(started.id)
        .await
        .expect("read")
        .expect("stored");
    (migrated, detail)
}

fn cell_of(detail: &knit_shared::RunDetail, step: usize, host: &str) -> knit_shared::Cell {
    let at = detail
        .plan
        .hosts
        .iter()
        .position(|h| h.name == host)
        .expect("host");
    detail.grid.cells[step][at].clone().expect("a cell")
}

#[tokio::test]
async fn a_once_step_runs_on_the_first_host_still_in_the_run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hosts = start_hosts(dir.path(), &["web1", "web2", "web3"]).await;
    let all = ONCE.replace(
        "{HOSTS}",
        "\"{HOST:web1}\", \"{HOST:web2}\", \"{HOST:web3}\"",
    );
    hosts.write_cluster("three", &all);

    let (migrated, detail) =
        migrated_on(&hosts, dir.path(), "three", "deploy", StartRun::default()).await;
    assert_eq!(migrated, ["web-1"]);
    assert_eq!(detail.run.status, RunStatus::Ok);
    for host in ["web-2", "web-3"] {
        let cell = cell_of(&detail, 1, host);
        assert_eq!(cell.status, CellStatus::Skipped);
        assert_eq!(cell.reason.as_deref(), Some("runs once: on web-1"));
    }
    // Inside a subset of hosts, and for ALL.task, the first of those.
    let subset = StartRun {
        hosts: vec!["web-2".to_owned(), "web-3".to_owned()],
        ..StartRun::default()
    };
    let (migrated, _) = migrated_on(&hosts, dir.path(), "three", "migrate", subset).await;
    assert_eq!(migrated, ["web-2"]);

    // The first host cannot be reached: the next one runs it.
    let gone = ONCE.replace(
        "{HOSTS}",
        "\"{HOST:web1}\", \"{HOST:web2}\", \"{HOST:web3}\"",
    );
    let unreachable = gone.replacen("{HOST:web1}", "knit-sandbox@127.0.0.1:1", 1);
    hosts.write_cluster("gone", &unreachable);
    let (migrated, detail) =
        migrated_on(&hosts, dir.path(), "gone", "migrate", StartRun::default()).await;
    assert_eq!(migrated, ["web-2"]);
    assert_eq!(cell_of(&detail, 0, "web-1").status, CellStatus::Failed);
    let skipped = cell_of(&detail, 0, "web-3");
    assert_eq!(skipped.reason.as_deref(), Some("runs once: on web-2"));
    // The host that could not be reached still counts against the run.
    assert_eq!(detail.run.status, RunStatus::Failed);
}

const LITERAL: &str = r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "echoer"

[kinds.echoer.tasks]
show = [
  "set -- {{ note }}; echo \"words=$#\"; printf %s {{ note }} > {WORK}/seen-command",
  { write = "{{ note }}", to = "{WORK}/seen-{{ note_file }}" },
]

[scenarios.show]
steps = ["app.show"]
[scenarios.show.params.note]
pattern = "(?s).*"
[scenarios.show.params.note_file]
pattern = ".*"
default = "file"
"#;

#[tokio::test]
async fn a_parameter_reaches_a_command_as_one_literal_word_whatever_it_holds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    hosts.write_cluster("echo", LITERAL);
    let marker = hosts.work.join("x");
    let touch = format!("touch {}", marker.display());
    for value in [
        format!("'; {touch}; '"),
        format!("$({touch})"),
        format!("`{touch}`"),
        format!("a\n{touch}"),
        format!("\"; {touch}; \""),
        "two words".to_owned(),
    ] {
        let set = format!("note={value}");
        // A file name of its own: the same value in a path stays a literal too.
        let file = format!("note_file=$({touch})");
        let run = hosts.knit(data, &["echo", "show", "--set", &set, "--set", &file]);
        let out = text(&run.stdout);
        assert!(
            run.status.success(),
            "{value:?}: {out}{}",
            text(&run.stderr)
        );
        assert!(out.contains("words=1"), "{value:?}: {out}");
        let seen = std::fs::read_to_string(hosts.work.join("seen-command")).expect("seen");
        assert_eq!(seen, value, "the command saw another value");
        let written = hosts.work.join(format!("seen-$({touch})"));
        let content = std::fs::read_to_string(&written).expect("the file at its literal path");
        assert_eq!(content, value, "the file holds another value");
        assert!(!marker.exists(), "{value:?} ran as a command");
    }
}
