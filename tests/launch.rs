//! `plan` and `launch` against moto: the first plan lists everything, launch creates it
//! (groups named after the cluster with exactly their rules, instances with the cluster's
//! tags), the second plan is empty and a second launch creates nothing.

use std::path::Path;
use std::process::Output;

use aws_sdk_ec2::types::Filter;
use knit_shared::{LaunchChanges, RunEvent, RunEventBody, RunStatus, RunSummary, StartRun};

use crate::harness::{
    Browser, EventReader, KnitServer, built_console, dummy_web_dir, inbound_cidrs, knit_on_moto,
    moto_client, start_moto,
};

const CLUSTER: &str = r#"[cluster]
name = "prod.shop"
region = "us-east-1"
key_name = "knit-test"
# moto's instances are not machines: nothing would answer on their SSH port.
wait_for_ssh = false
[cluster.tags]
Stage = "Production"
Product = "Shop"

[machines.frontend]
ami = "ami-12c6146b"
instance_type = "t3.micro"
security_groups = ["shop-web"]
count = 2
[machines.frontend.roles.app]
kind = "app"
repository = "https://git.example/shop.git"
start = "./serve"

[machines.db]
ami = "ami-12c6146b"
instance_type = "t3.small"
security_groups = ["shop-db"]
[machines.db.roles.cache]
kind = "memcache"

[firewall.shop-web]
rules = [
  { proto = "tcp", ports = "80", from = "0.0.0.0/0" },
  { proto = "tcp", ports = "22", from = "198.51.100.0/24" },
]
[firewall.shop-db]
rules = [{ proto = "tcp", ports = "5432", from = "shop-web" }]
"#;

/// `knit prod.shop ACTION`, the cluster's name given as a production cluster wants.
fn knit(clusters: &Path, data: &Path, moto: &str, action: &str) -> Output {
    knit_on_moto(
        clusters,
        data,
        moto,
        &["prod.shop", action, "--yes", "prod.shop"],
    )
}

/// Every instance tagged Stage=Production, as moto has them.
async fn production_instances(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::Instance> {
    let found = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("tag:Stage")
                .values("Production")
                .build(),
        )
        .send()
        .await
        .expect("instances");
    found
        .reservations()
        .iter()
        .flat_map(|r| r.instances().iter().cloned())
        .collect()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn launch_creates_what_the_plan_lists_and_a_second_plan_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clusters = dir.path().join("clusters");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&clusters).expect("clusters dir");
    std::fs::write(clusters.join("prod.toml"), CLUSTER).expect("definition");
    let moto = start_moto(dir.path()).await;
    let endpoint = moto.endpoint();

    let first = knit(&clusters, &data, &endpoint, "changes");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(
        stdout(&first).lines().collect::<Vec<_>>(),
        [
            "create security group shop-db",
            "create security group shop-web",
            "add rule tcp 5432 from shop-web to shop-db",
            "add rule tcp 22 from 198.51.100.0/24 to shop-web",
            "add rule tcp 80 from 0.0.0.0/0 to shop-web",
            "launch 1 × t3.small (ami-12c6146b) for db",
            "launch 2 × t3.micro (ami-12c6146b) for frontend",
        ]
    );

    let launched = knit(&clusters, &data, &endpoint, "launch");
    assert!(
        launched.status.success(),
        "{}{}",
        stdout(&launched),
        String::from_utf8_lossy(&launched.stderr)
    );
    assert!(stdout(&launched).contains("ec2 | waiting for 3 instances to run"));

    // In EC2: the groups with exactly their rules, the instances with their tags and groups.
    let ec2 = moto_client(&moto, "us-east-1").await;
    let groups = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values("prod.shop-shop-web")
                .values("prod.shop-shop-db")
                .build(),
        )
        .send()
        .await
        .expect("groups");
    let groups = groups.security_groups();
    assert_eq!(groups.len(), 2);
    let web = groups
        .iter()
        .find(|g| g.group_name() == Some("prod.shop-shop-web"))
        .expect("web");
    let db = groups
        .iter()
        .find(|g| g.group_name() == Some("prod.shop-shop-db"))
        .expect("db");
    assert_eq!(
        inbound_cidrs(web),
        [
            (22, "198.51.100.0/24".to_owned()),
            (80, "0.0.0.0/0".to_owned())
        ]
    );
    let db_sources: Vec<&str> = db
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.user_id_group_pairs()
                .iter()
                .filter_map(|pair| pair.group_id())
        })
        .collect();
    assert_eq!(db_sources, [web.group_id().expect("id")]);

    let instances = production_instances(&ec2).await;
    assert_eq!(instances.len(), 3);
    for instance in &instances {
        let tag = |key: &str| {
            instance
                .tags()
                .iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
                .map(str::to_owned)
        };
        let machine = tag("knit:machine").expect("machine tag");
        assert_eq!(tag("Product").as_deref(), Some("Shop"));
        assert_eq!(tag("knit:cluster").as_deref(), Some("prod.shop"));
        assert_eq!(tag("Name"), Some(format!("prod.shop-{machine}")));
        assert_eq!(instance.key_name(), Some("knit-test"));
        let group = if machine == "db" { db } else { web };
        assert_eq!(
            instance.security_groups()[0].group_id(),
            group.group_id(),
            "{machine}"
        );
    }

    // Each machine's instances were started with a token of their own, so a retried call
    // starts them once (moto records the token, though it does not deduplicate by it).
    let mut tokens: std::collections::BTreeMap<String, std::collections::BTreeSet<String>> =
        std::collections::BTreeMap::new();
    for instance in &instances {
        let machine = instance
            .tags()
            .iter()
            .find(|t| t.key() == Some("knit:machine"))
            .and_then(|t| t.value())
            .expect("machine tag");
        let token = instance.client_token().expect("a client token");
        assert!(token.starts_with("knit-") && token.len() <= 64, "{token}");
        tokens
            .entry(machine.to_owned())
            .or_default()
            .insert(token.to_owned());
    }
    assert!(tokens.values().all(|set| set.len() == 1), "{tokens:?}");
    let distinct: std::collections::BTreeSet<&String> = tokens.values().flatten().collect();
    assert_eq!(
        distinct.len(),
        tokens.len(),
        "one token per machine: {tokens:?}"
    );

    // Twice is once: nothing left to do, nothing created again.
    let second = knit(&clusters, &data, &endpoint, "changes");
    assert_eq!(
        stdout(&second).trim(),
        "EC2 matches prod.shop: launch would change nothing"
    );
    let web_dir = dummy_web_dir(dir.path());
    let server = KnitServer::on_moto(
        &data,
        &moto,
        &web_dir,
        &["--clusters", clusters.to_str().expect("utf-8")],
    );
    let plan: LaunchChanges = server
        .get("/clusters/prod.shop/changes")
        .await
        .expect("plan")
        .json()
        .await
        .expect("plan JSON");
    assert!(plan.changes.is_empty(), "{plan:?}");
    let run: RunSummary = server
        .client()
        .post(server.api("/runs"))
        .json(&StartRun {
            cluster: "prod.shop".to_owned(),
            scenario: "launch".to_owned(),
            confirm: Some("prod.shop".to_owned()),
            ..StartRun::default()
        })
        .send()
        .await
        .expect("launch")
        .json()
        .await
        .expect("run JSON");
    let mut events = server
        .get(&format!("/runs/{}/events", run.id))
        .await
        .expect("events");
    let mut reader = EventReader::default();
    let mut lines = Vec::new();
    let mut status = None;
    while let Some(event) = reader.next::<RunEvent>(&mut events).await {
        match event.body {
            RunEventBody::Line { text, .. } => lines.push(text),
            RunEventBody::RunFinished { status: end } => status = Some(end),
            _ => {}
        }
    }
    assert_eq!(status, Some(RunStatus::Ok));
    assert_eq!(
        lines,
        ["EC2 already matches the definition: nothing to create"]
    );
    let count = production_instances(&ec2).await.len();
    assert_eq!(count, 3, "a second launch started nothing");
    server.stop();
}

#[tokio::test]
async fn the_clusters_page_draws_the_topology_and_launches_from_a_button() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clusters = dir.path().join("clusters");
    std::fs::create_dir_all(&clusters).expect("clusters dir");
    std::fs::write(clusters.join("prod.toml"), CLUSTER).expect("definition");
    let moto = start_moto(dir.path()).await;
    let web = built_console();
    let server = KnitServer::on_moto(
        &dir.path().join("data"),
        &moto,
        &web,
        &["--clusters", clusters.to_str().expect("utf-8")],
    );
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    browser.open(&format!("{}/clusters", server.url)).await;

    // The picture: the internet may reach the frontend on 80, the frontend the db on 5432.
    let edge = |from: &str, to: &str| {
        format!(".topology .edge[data-from=\"{from}\"][data-to=\"{to}\"] text")
    };
    assert_eq!(
        browser.text_of(&edge("0.0.0.0/0", "frontend")).await,
        "tcp 80"
    );
    assert_eq!(
        browser.text_of(&edge("198.51.100.0/24", "frontend")).await,
        "tcp 22"
    );
    assert_eq!(browser.text_of(&edge("frontend", "db")).await, "tcp 5432");
    let frontend = ".topology [data-machine=\"frontend\"]";
    assert!(browser.text_of(frontend).await.contains("not launched"));

    // Launch shows what it will do, asks for the production cluster's name, and does it.
    let button = "[data-cluster=\"prod.shop\"] [data-scenario=\"launch\"] button";
    browser.click(button).await;
    let changes = browser.text_of("#launch-changes").await;
    assert!(
        changes.contains("launch 2 × t3.micro (ami-12c6146b) for frontend"),
        "{changes}"
    );
    browser.type_into("#run-confirm", "prod.shop").await;
    browser.click("#run-go").await;
    browser.wait_for_text_within("#run-status", "ok", 60).await;

    // Back on the picture, the machines have their running instances.
    browser
        .open(&format!("{}/clusters?refresh", server.url))
        .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = browser.text_of(frontend).await;
        if text.matches("running").count() == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no running instances drawn: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    browser.close().await;
    server.stop();
}
