//! Secrets stay secret: after a session of launching, deploying and looking at everything, no
//! answer of the API and no line of the server's log holds the AWS secret key, a private key's
//! body, a password from a cluster definition or one from knit's secrets folder.

use knit_shared::{NewGroup, NewKey, RunStatus, RunSummary, WizardLaunched, WizardRequest};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{KnitServer, TEST_AWS_SECRET, dummy_web_dir, serve_cluster};

const DB_PASSWORD: &str = "pw-of-the-shop-db-81c3";
/// Read from the server's secrets folder, as `api_token_file` says.
const API_TOKEN: &str = "token-of-the-shop-api-27d9";

const SHOP: &str = r#"
[machines.web]
hosts = ["{HOST:web1}", "{HOST:web2}"]
[machines.web.roles.app]
kind = "app"
db_password = "pw-of-the-shop-db-81c3"
api_token_file = "shop-api"

[kinds.app.tasks]
migrate = ["echo migrating with {{ db_password }} and {{ api_token }}", "echo to stderr {{ db_password }} >&2"]

[scenarios.deploy]
steps = ["app.migrate"]
[scenarios.deploy.params.api_key]
secret = true
default = "default-key-of-the-shop-5f0e"
"#;

const SECRET_DEFAULT: &str = "default-key-of-the-shop-5f0e";

/// Every answer to the GETs the OpenAPI document lists (live feeds: their first part), with
/// `{id}` the run's id and `{name}` the cluster's.
async fn read_everything(server: &KnitServer, run: i64) -> Vec<String> {
    let document: Value = server.get_json("/openapi.json").await;
    let mut answers = Vec::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        if operations.get("get").is_none() {
            continue;
        }
        let path = path
            .trim_start_matches("/api")
            .replace("{id}", &run.to_string())
            .replace("{name}", "shop");
        let mut response = server.get(&path).await.expect("GET");
        let mut body = String::new();
        if path.ends_with("/events") || path.ends_with("/progress") {
            // A finished run's stream ends; the instances' feed's first message is enough.
            let started = std::time::Instant::now();
            while let Ok(Ok(Some(chunk))) =
                tokio::time::timeout(std::time::Duration::from_secs(2), response.chunk()).await
            {
                body.push_str(&String::from_utf8_lossy(&chunk));
                if started.elapsed().as_secs() > 5 {
                    break;
                }
            }
        } else {
            body = response.text().await.expect("body");
        }
        answers.push(format!("GET {path}: {body}"));
    }
    answers
}

#[tokio::test]
async fn no_secret_appears_in_any_answer_or_log_after_launching_deploying_and_viewing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (hosts, _moto, server) =
        serve_cluster(dir.path(), "shop", SHOP, &dummy_web_dir(dir.path())).await;
    let secrets = dir.path().join("data/secrets");
    std::fs::create_dir_all(&secrets).expect("the secrets folder");
    std::fs::write(secrets.join("shop-api"), format!("{API_TOKEN}\n")).expect("written");
    let client = server.client();
    let mut answers = Vec::new();

    // Launch with a key pair made for it: its private key is in that one answer only.
    let launch = WizardRequest {
        region: Some("us-east-1".to_owned()),
        image_id: "ami-12c6146b".to_owned(),
        instance_type: "t3.micro".to_owned(),
        count: 1,
        new_key: Some(NewKey {
            name: "made-for-this".to_owned(),
            public_key: None,
        }),
        new_group: Some(NewGroup {
            name: "secrets-test".to_owned(),
            rules: Vec::new(),
        }),
        client_token: "secrets-test".to_owned(),
        ..WizardRequest::default()
    };
    let launched = client
        .post(server.api("/wizard/launch"))
        .json(&launch)
        .send()
        .await
        .expect("launch")
        .text()
        .await
        .expect("body");
    let launched: WizardLaunched =
        serde_json::from_str(&launched).unwrap_or_else(|_| panic!("refused: {launched}"));
    let private_key = launched
        .private_key
        .clone()
        .expect("the new key's private half");
    let key_body = private_key.lines().nth(1).expect("a PEM body").to_owned();
    let again = client
        .post(server.api("/wizard/launch"))
        .json(&launch)
        .send()
        .await
        .expect("launch again")
        .text()
        .await
        .expect("body");
    answers.push(format!("POST /wizard/launch again: {again}"));

    // Deploy: the task prints the password on stdout and stderr.
    let run: RunSummary = server
        .post("/runs", &json!({"cluster": "shop", "scenario": "deploy"}))
        .await
        .json()
        .await
        .expect("JSON");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let detail: Value = server.get_json(&format!("/runs/{}", run.id)).await;
        if detail["run"]["status"] != json!(RunStatus::Running) {
            assert_eq!(detail["run"]["status"], json!(RunStatus::Ok), "{detail}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the run did not end");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // A token made through the API is shown once, in its own answer; the list never has it.
    let token = client
        .request(Method::POST, server.api("/tokens"))
        .json(&json!({"label": "secrets test"}))
        .send()
        .await
        .expect("token")
        .text()
        .await
        .expect("body");
    let token: Value = serde_json::from_str(&token).expect("JSON");
    let token_secret = token["token"].as_str().expect("token").to_owned();

    answers.extend(read_everything(&server, run.id).await);
    let everything = answers.join("\n");
    assert!(
        everything.contains("migrating with **** and ****"),
        "the run log is there, masked"
    );
    let ssh_key = std::fs::read_to_string(&hosts.key).expect("the SSH client key");
    let ssh_key_body = ssh_key.lines().nth(1).expect("a key body").to_owned();
    let log = server.log();
    for (what, secret) in [
        ("the AWS secret key", TEST_AWS_SECRET),
        ("the new key pair's private key", key_body.as_str()),
        ("the SSH client key", ssh_key_body.as_str()),
        ("the database password", DB_PASSWORD),
        ("a secret of the secrets folder", API_TOKEN),
        ("a secret parameter's default", SECRET_DEFAULT),
        ("the API token", token_secret.as_str()),
        ("the test admin's token", server.token.as_str()),
    ] {
        assert!(!everything.contains(secret), "{what} is in an answer");
        assert!(!log.contains(secret), "{what} is in the server's log");
    }
    server.stop();
}
