//! Releases in Capistrano's layout on real sshd hosts: v1 then v2 deployed from a git
//! repository the test makes (over file://), `current` on v2, the built-in rollback back on
//! v1 and the live view saying so; a deploy whose preparation fails leaves `current` as it was;
//! releases beyond `keep_releases` go; one deploy's release has one name on every host, so a
//! rollback by name is one run; no ref is the repository's default branch; a rollback takes
//! an app's schema back first, as its settings say; the cluster page
//! (Chromium) marks a host left behind, and the runs list says what each run deployed.

use std::path::{Path, PathBuf};
use std::process::Output;

use knit_shared::ReleaseList;

use crate::harness::{
    Browser, TestHosts, bare_for_hosts, built_console, git, start_hosts, start_moto,
};

const SITE: &str = r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "site"
repository = "file://{ORIGIN}"
app_dir = "{WORK}/web1"
prefix = "{WORK}/web1-files"
[machines.spare]
hosts = ["{HOST:web2}"]
[machines.spare.roles.app]
kind = "site"
repository = "file://{ORIGIN}"
app_dir = "{WORK}/web2"
prefix = "{WORK}/web2-files"

[kinds.site]
extends = "app"
[kinds.site.settings]
sudo = ""
services = "user"
start = "sleep 600"
migrate_command = "if [ -e broken ]; then echo this release is broken >&2; exit 1; fi"
[kinds.site.tasks]
restart = ["echo restarted {{ host }}"]

[scenarios.deploy]
steps = ["ALL.update", "app.restart"]
[scenarios.deploy.params.ref]
default = "main"

[scenarios.ship]
steps = ["ALL.update"]

[scenarios.careful]
steps = ["ALL.prepare", "app.migrate", "ALL.update"]
[scenarios.careful.params.ref]
pattern = ".*"

[scenarios.back]
steps = ["app.rollback"]
[scenarios.back.params.release]
pattern = ".*"
"#;

/// A bare repository with tags v1, v2 and v3 of a one-file site (v3's migration fails),
/// readable by the hosts' account. Its default branch is `trunk`: no ref must not mean `main`.
pub fn origin(dir: &Path) -> PathBuf {
    let work = dir.join("site-src");
    std::fs::create_dir_all(&work).expect("folder");
    git(&work, &["init", "-q", "-b", "trunk"]);
    for version in ["v1", "v2", "v3"] {
        std::fs::write(work.join("version.txt"), format!("{version}\n")).expect("write");
        if version == "v3" {
            std::fs::write(work.join("broken"), "").expect("write");
        }
        git(&work, &["add", "."]);
        git(&work, &["commit", "-q", "-m", version]);
        git(&work, &["tag", version]);
    }
    bare_for_hosts(dir, &work)
}

fn ok(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The name of `host`'s current release.
fn live_release(hosts: &TestHosts, host: &str) -> String {
    let current = std::fs::read_link(hosts.work.join(host).join("current")).expect("current");
    current
        .file_name()
        .expect("a release folder")
        .to_string_lossy()
        .into_owned()
}

/// The version `host`'s current release serves.
fn live_version(hosts: &TestHosts, host: &str) -> String {
    std::fs::read_to_string(hosts.work.join(host).join("current/version.txt"))
        .expect("a current release")
        .trim()
        .to_owned()
}

#[tokio::test]
async fn deploys_switch_current_rollback_goes_back_and_old_releases_go() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1", "web2"]).await;
    let origin = origin(data);
    hosts.write_cluster(
        "site",
        &SITE.replace("{ORIGIN}", origin.to_str().expect("utf-8")),
    );
    ok(&hosts.knit(data, &["site", "install"]));

    let first = ok(&hosts.knit(data, &["site", "deploy", "--set", "ref=v1"]));
    assert!(first.contains("::knit-output ref=v1"), "{first}");
    assert_eq!(live_version(&hosts, "web1"), "v1");
    // One name for one deploy, on every host: the run's time and the commit.
    let v1 = live_release(&hosts, "web1");
    assert_eq!(live_release(&hosts, "web2"), v1);
    ok(&hosts.knit(data, &["site", "deploy", "--set", "ref=v2"]));
    assert_eq!(live_version(&hosts, "web1"), "v2");
    assert_eq!(live_version(&hosts, "web2"), "v2");

    // The built-in rollback: back one release on every host, and restarted.
    let back = ok(&hosts.knit(data, &["site", "rollback"]));
    assert!(back.contains("restarted web-1"), "{back}");
    assert_eq!(live_version(&hosts, "web1"), "v1");
    let live = ok(&hosts.knit(data, &["site", "releases"]));
    let lines: Vec<&str> = live.lines().collect();
    assert_eq!(lines.len(), 2, "{live}");
    for line in &lines {
        assert!(line.contains("\tref=v1\t"), "{line}");
    }

    // A ref that does not exist: the deploy fails before switching anything.
    let failed = hosts.knit(data, &["site", "deploy", "--set", "ref=v9"]);
    assert_eq!(failed.status.code(), Some(1));
    assert_eq!(live_version(&hosts, "web1"), "v1");
    assert_eq!(ok(&hosts.knit(data, &["site", "releases"])), live);

    // A migration that fails leaves the live release serving: it ran in the release the run
    // prepared (the live one would have passed), and nothing was switched.
    let refused = hosts.knit(data, &["site", "careful", "--set", "ref=v3"]);
    assert_eq!(refused.status.code(), Some(1));
    let said = crate::harness::said(&refused);
    assert!(said.contains("this release is broken"), "{said}");
    assert_eq!(live_version(&hosts, "web1"), "v1");
    assert_eq!(ok(&hosts.knit(data, &["site", "releases"])), live);

    // A release named by a path is refused, however permissive the parameter: the other
    // host's release exists by that path, and is not one of this host's.
    let web2_release = std::fs::read_link(hosts.work.join("web2/current")).expect("current");
    let elsewhere = format!("../../web2/{}", web2_release.display());
    assert!(hosts.work.join("web1/releases").join(&elsewhere).is_dir());
    for name in [elsewhere.as_str(), ".", ".hidden"] {
        let set = format!("release={name}");
        let refused = hosts.knit(data, &["site", "back", "--set", &set, "--hosts", "web-1"]);
        assert_eq!(refused.status.code(), Some(1), "{name}");
        let said = crate::harness::said(&refused);
        assert!(
            said.contains("is not the name of a release folder"),
            "{said}"
        );
        assert_eq!(live_version(&hosts, "web1"), "v1");
    }

    for _ in 0..7 {
        ok(&hosts.knit(data, &["site", "deploy", "--set", "ref=v2"]));
    }
    let mut kept: Vec<String> = std::fs::read_dir(hosts.work.join("web1/releases"))
        .expect("releases")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| !name.starts_with('.'))
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 5, "{kept:?}");
    // Back to a kept release by name: one run for both hosts, whose releases have its names.
    let oldest = format!("release={}", kept[0]);
    ok(&hosts.knit(data, &["site", "rollback", "--set", &oldest]));
    assert_eq!(live_release(&hosts, "web1"), kept[0]);
    assert_eq!(live_release(&hosts, "web2"), kept[0]);
    let runs = ok(&hosts.knit(data, &["site", "runs"]));
    let newest = runs.lines().next().expect("the rollback's run");
    assert!(newest.ends_with(&format!("\t{oldest}")), "{runs}");

    // No ref: the repository's default branch, whatever it is called.
    let shipped = ok(&hosts.knit(data, &["site", "ship"]));
    assert!(shipped.contains("::knit-output ref=trunk"), "{shipped}");
    assert_eq!(live_version(&hosts, "web1"), "v3");
}

/// An app that is not Django: its "database" is a file holding the version whose migration
/// ran last, and its settings say how to read and go back.
const SCHEMA: &str = r#"[machines.web]
hosts = ["{HOST:web1}"]
[machines.web.roles.app]
kind = "filed"
repository = "file://{ORIGIN}"
app_dir = "{WORK}/web1"
prefix = "{WORK}/web1-files"

[kinds.filed]
extends = "app"
[kinds.filed.settings]
sudo = ""
services = "user"
start = "sleep 600"
migrate_command = "cat version.txt > {WORK}/db"
migration_state_command = "cat {WORK}/db"
unmigrate_command = "echo going back to $(cat \"$KNIT_MIGRATIONS\"); cp \"$KNIT_MIGRATIONS\" {WORK}/db"
[kinds.filed.tasks]
restart = ["{% include 'app/schema.sh' %}"]

[scenarios.deploy]
steps = ["ALL.prepare", "app.migrate", "ALL.update", "app.restart"]
[scenarios.deploy.params.ref]
pattern = ".*"
"#;

#[tokio::test]
async fn any_app_says_how_its_schema_goes_back_and_the_rollback_does_so_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();
    let hosts = start_hosts(data, &["web1"]).await;
    let origin = origin(data);
    hosts.write_cluster(
        "filed",
        &SCHEMA.replace("{ORIGIN}", origin.to_str().expect("utf-8")),
    );
    ok(&hosts.knit(data, &["filed", "install"]));
    let db = || {
        std::fs::read_to_string(hosts.work.join("db"))
            .expect("the database file")
            .trim()
            .to_owned()
    };
    for version in ["v1", "v2"] {
        let set = format!("ref={version}");
        ok(&hosts.knit(data, &["filed", "deploy", "--set", &set]));
        assert_eq!(db(), version);
    }
    let back = ok(&hosts.knit(data, &["filed", "rollback"]));
    assert!(back.contains("going back to v1"), "{back}");
    assert_eq!(db(), "v1");
    assert_eq!(live_version(&hosts, "web1"), "v1");
}

#[tokio::test]
async fn the_cluster_page_shows_what_each_host_runs_and_marks_the_one_left_behind() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let hosts = start_hosts(&data, &["web1", "web2", "web3"]).await;
    let origin = origin(&data);
    let three = format!(
        "{SITE}[machines.extra]\nhosts = [\"{{HOST:web3}}\"]\n[machines.extra.roles.app]\n\
         kind = \"site\"\nrepository = \"file://{{ORIGIN}}\"\napp_dir = \"{{WORK}}/web3\"\n"
    );
    hosts.write_cluster(
        "site",
        &three.replace("{ORIGIN}", origin.to_str().expect("utf-8")),
    );
    ok(&hosts.knit(&data, &["site", "install"]));
    ok(&hosts.knit(&data, &["site", "deploy", "--set", "ref=v1"]));
    // Only web-1 gets v2: it is the one that differs now.
    ok(&hosts.knit(
        &data,
        &["site", "deploy", "--set", "ref=v2", "--hosts", "web-1"],
    ));

    let moto = start_moto(dir.path()).await;
    let server = hosts.serve(&data, &moto, &built_console());
    let live: ReleaseList = server.get_json("/clusters/site/releases").await;
    let refs: Vec<(&str, &str)> = live
        .hosts
        .iter()
        .map(|host| (host.host.as_str(), host.outputs["ref"].as_str()))
        .collect();
    assert_eq!(
        refs,
        [("extra-1", "v1"), ("spare-1", "v1"), ("web-1", "v2")]
    );
    // The runs list says what each deploy left live: one release on three hosts, then web-1's.
    let runs: knit_shared::RunList = server.get_json("/runs?cluster=site").await;
    let released: Vec<(&str, usize)> = runs
        .runs
        .iter()
        .map(|run| (run.scenario.as_str(), run.releases.len()))
        .collect();
    assert_eq!(released, [("deploy", 1), ("deploy", 1), ("install", 0)]);
    assert_eq!(
        runs.runs[0].releases[0], live.hosts[2].outputs["release"],
        "web-1's"
    );

    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    browser.open(&format!("{}/clusters/site", server.url)).await;
    let web = browser
        .wait_for_text_containing(".live-releases tr[data-host=\"web-1\"]", "(differs)")
        .await;
    assert!(web.contains("v2"), "{web}");
    let spare = browser
        .text_of(".live-releases tr[data-host=\"spare-1\"]")
        .await;
    assert!(
        spare.contains("v1") && !spare.contains("differs"),
        "{spare}"
    );
    browser.open(&format!("{}/runs", server.url)).await;
    let newest = format!("tr[data-run='{}'] .run-releases", runs.runs[0].id);
    browser
        .wait_for_text(&newest, &runs.runs[0].releases[0])
        .await;

    // The run view says what each host reported.
    let run = live.hosts[2].run;
    browser.open(&format!("{}/runs/{run}", server.url)).await;
    browser
        .wait_for_text_containing("#reported-web-1", "ref=v2")
        .await;
    browser.close().await;
    server.stop();
}
