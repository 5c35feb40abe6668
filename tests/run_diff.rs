//! What a run would change, asked before it starts, on a real sshd host: after v1 is deployed
//! and its configuration file changed by hand, `deploy --set ref=v2 --diff` (and the API's
//! `GET /api/clusters/{name}/diff`) names the live commit and v2's, the commit between, the
//! migration v2 adds, and the file as a diff that takes the hand's change back, its password
//! masked; the secret environment file only says whether it changes. Nothing changes by
//! asking. After v2 is deployed, the rollback's diff names what it takes back.

use std::path::{Path, PathBuf};

use knit_shared::{FileChange, RunDiff};

use crate::harness::{bare_for_hosts, dummy_web_dir, git, said, serve_cluster};

const PASSWORD: &str = "pw-of-the-diffed-site-3a1f";

const SITE: &str = r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "site"
repository = "file://{ORIGIN}"
app_dir = "{WORK}/web1"
prefix = "{WORK}/web1-files"
db_password = "pw-of-the-diffed-site-3a1f"

[kinds.site]
extends = "app"
[kinds.site.settings]
sudo = ""
services = "user"
start = "sleep 600"
migration_files = ["migrations/*.sql"]
[kinds.site.tasks]
configure = [{ write = "port = {{ app_port }}\npassword = {{ db_password }}\n", to = "{{ prefix }}/etc/site.conf" }]
restart = ["echo restarted {{ host }}"]

[scenarios.deploy]
steps = ["app.configure", "ALL.update", "app.restart"]
[scenarios.deploy.params.ref]
default = "v1"
"#;

/// A bare repository with v1 (a first migration) and v2 (a second), readable by the hosts'
/// account; the commits of v1 and v2.
fn origin(dir: &Path) -> (PathBuf, String, String) {
    let work = dir.join("site-src");
    std::fs::create_dir_all(work.join("migrations")).expect("folder");
    git(&work, &["init", "-q", "-b", "main"]);
    let mut commits = Vec::new();
    for (version, migration, subject) in [
        ("v1", "0001_start.sql", "v1: the start"),
        ("v2", "0002_more.sql", "v2 adds more"),
    ] {
        std::fs::write(work.join("version.txt"), format!("{version}\n")).expect("write");
        std::fs::write(work.join("migrations").join(migration), "select 1;\n").expect("write");
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", subject]);
        git(&work, &["tag", version]);
        commits.push(git(&work, &["rev-parse", "HEAD"]));
    }
    let bare = bare_for_hosts(dir, &work);
    let v2 = commits.pop().expect("v2");
    (bare, commits.pop().expect("v1"), v2)
}

#[tokio::test]
async fn the_diff_before_a_deploy_names_commits_migrations_and_drift_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (origin, v1, v2) = origin(dir.path());
    let body = SITE.replace("{ORIGIN}", origin.to_str().expect("utf-8"));
    let (hosts, _moto, server) =
        serve_cluster(dir.path(), "site", &body, &dummy_web_dir(dir.path())).await;
    let data = dir.path().join("data");
    let knit = |args: &[&str]| {
        let output = hosts.knit(&data, args);
        let text = said(&output);
        assert!(output.status.success(), "{args:?}: {text}");
        text
    };
    knit(&["site", "install"]);
    knit(&["site", "deploy"]);

    // By hand, since: a line in the configuration file.
    let conf = hosts.work.join("web1-files/etc/site.conf");
    let mut text = std::fs::read_to_string(&conf).expect("the file");
    text.push_str("# tuned by hand\n");
    std::fs::write(&conf, &text).expect("written");
    let version =
        || std::fs::read_to_string(hosts.work.join("web1/current/version.txt")).expect("live");

    let shown = knit(&["site", "deploy", "--set", "ref=v2", "--diff"]);
    for line in [
        "== web-1".to_owned(),
        format!("[app] commit: {} -> {} (v2)", &v1[..7], &v2[..7]),
        format!("[app] commit added: {} v2 adds more (knit test, ", &v2[..7]),
        "[app] migration added: migrations/0002_more.sql".to_owned(),
        format!("[app] {}: changed", conf.display()),
        "-# tuned by hand".to_owned(),
        "password = ****".to_owned(),
        "/shared/knit.env: unchanged".to_owned(),
    ] {
        assert!(shown.contains(&line), "{line:?} not in {shown}");
    }
    assert!(!shown.contains(PASSWORD), "{shown}");
    // Asking changed nothing.
    assert_eq!(version().trim(), "v1");
    assert_eq!(std::fs::read_to_string(&conf).expect("the file"), text);

    // The API says the same.
    let diff: RunDiff = server
        .get_json("/clusters/site/diff?scenario=deploy&ref=v2")
        .await;
    let web = &diff.hosts[0];
    assert_eq!(web.host, "web-1");
    assert!(
        web.notes
            .iter()
            .any(|note| note.contains("migration added: migrations/0002_more.sql")),
        "{web:?}"
    );
    let file = web
        .files
        .iter()
        .find(|file| file.path == conf.display().to_string())
        .expect("site.conf");
    assert_eq!(file.change, FileChange::Changed);
    assert!(file.diff.contains("-# tuned by hand"), "{}", file.diff);
    let env = web
        .files
        .iter()
        .find(|file| file.path.ends_with("/shared/knit.env"))
        .expect("knit.env");
    assert!(env.secret && env.diff.is_empty(), "{env:?}");
    let answer = serde_json::to_string(&diff).expect("JSON");
    assert!(!answer.contains(PASSWORD), "{answer}");

    // Deployed, the file is the run's again; the rollback's diff names what it takes back.
    knit(&["site", "deploy", "--set", "ref=v2"]);
    assert_eq!(version().trim(), "v2");
    let back = knit(&["site", "rollback", "--diff"]);
    for line in [
        format!("[app] commit: {} -> {} (release ", &v2[..7], &v1[..7]),
        format!("[app] commit taken back: {} v2 adds more", &v2[..7]),
        "[app] migration taken back: migrations/0002_more.sql".to_owned(),
    ] {
        assert!(back.contains(&line), "{line:?} not in {back}");
    }
    let again = knit(&["site", "deploy", "--set", "ref=v2", "--diff"]);
    assert!(
        again.contains(&format!("[app] commit: {} (v2) is live already", &v2[..7])),
        "{again}"
    );
    assert!(
        again.contains(&format!("[app] {}: unchanged", conf.display())),
        "{again}"
    );
    server.stop();
}
