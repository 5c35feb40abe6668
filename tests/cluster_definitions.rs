//! Cluster definition files: the shipped examples load, and each kind of mistake is reported at
//! its file, line and column, with every mistake of a file at once.

use std::path::Path;

use knit::clusters::{DefinitionError, Library, load_dir};
use knit_shared::ClusterList;

use crate::harness::{KnitServer, dummy_web_dir, start_moto};

fn errors_of(text: &str) -> Vec<DefinitionError> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("bad.toml"), text).expect("write");
    let loaded = load_dir(dir.path(), Library::builtin());
    assert!(
        loaded.definitions.is_empty(),
        "the definition must be refused"
    );
    loaded.errors
}

const HEAD: &str = "[cluster]\nname = \"c\"\n\n[machines.web]\nhosts = [\"deploy@127.0.0.1:2201\"]\n[machines.web.roles.proxy]\nkind = \"nginx_proxy\"\n";

#[test]
fn the_example_cluster_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clusters");
    let loaded = load_dir(&dir, Library::builtin());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let definitions = loaded.definitions;
    assert_eq!(definitions.len(), 1);
    let production = &definitions[0];
    assert_eq!(production.name(), "production.mysite");
    assert_eq!(production.file.machines.len(), 2);
    let deploy = production.file.scenarios["deploy"].get_ref();
    assert_eq!(deploy.steps.len(), 5);
    assert_eq!(deploy.finally[0].get_ref().name(), "proxy.site_up");
}

#[test]
fn syntax_errors_name_file_line_and_column() {
    let errors = errors_of("[cluster]\nname = \"c\"\nregion = eu-west-1\n");
    assert_eq!(errors.len(), 1);
    let error = &errors[0];
    assert!(error.file.ends_with("bad.toml"));
    assert_eq!((error.line, error.column), (3, 10), "{error}");
}

#[test]
fn unknown_keys_are_refused_where_they_stand() {
    let errors = errors_of("[cluster]\nname = \"c\"\nregoin = \"eu-west-1\"\n");
    assert_eq!(errors[0].line, 3, "{}", errors[0]);
    assert!(errors[0].message.contains("regoin"), "{}", errors[0]);
}

#[test]
fn every_semantic_mistake_is_reported_at_its_place() {
    let text = format!(
        "{HEAD}[machines.db]\nhosts = [\"deploy@db:99999\"]\n\n[machines.cache]\nami = \"ami-1\"\ninstance_type = \"t3.micro\"\n[machines.cache.roles.memo]\nkind = \"memcached\"\n\n[firewall.web]\nrules = [{{ proto = \"tcp\", ports = \"90-80\", from = \"0.0.0.0/0\" }}, {{ proto = \"tcp\", ports = \"22\", from = \"office\" }}]\n\n[scenarios.deploy]\nsteps = [\"proxy.site_down\", \"app.update\", \"proxy.launch\", \"ALL.nothing\", \"broken\"]\n"
    );
    let errors = errors_of(&text);
    let find = |needle: &str| {
        errors
            .iter()
            .find(|e| e.message.contains(needle))
            .unwrap_or_else(|| panic!("no error about {needle:?} in {errors:#?}"))
    };
    assert_eq!(find("machine db carries no roles").line, 8);
    assert_eq!(find("has no valid port").line, 9);
    assert_eq!(find("unknown kind \"memcached\"").line, 15);
    assert_eq!(find("starts after it ends").line, 18);
    assert!(
        find("nor the name of a firewall group")
            .message
            .contains("office")
    );
    let step = find("no machine carries a role app");
    assert_eq!((step.line, step.column), (21, 29), "{step}");
    assert_eq!(
        find("role proxy (kind nginx_proxy) has no task launch").line,
        21
    );
    find("no role of this cluster has a task nothing");
    find("must be role.task or ALL.task");
}

#[test]
fn two_files_may_not_define_the_same_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!("{HEAD}[scenarios.hotfix]\nsteps = [\"proxy.reload\"]\n");
    std::fs::write(dir.path().join("a.toml"), &text).expect("write");
    std::fs::write(dir.path().join("b.toml"), &text).expect("write");
    let loaded = load_dir(dir.path(), Library::builtin());
    assert_eq!(loaded.definitions.len(), 1, "the first definition stands");
    let errors = loaded.errors;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].file.ends_with("b.toml"));
    assert!(
        errors[0].message.contains("already defined in"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0].line, 2);
}

#[test]
fn kinds_may_not_extend_in_a_circle() {
    let text = format!("{HEAD}[kinds.a]\nextends = \"b\"\n[kinds.b]\nextends = \"a\"\n");
    let errors = errors_of(&text);
    assert!(
        errors.iter().any(|e| e.message.contains("circle")),
        "{errors:#?}"
    );
}

#[tokio::test]
async fn the_api_lists_good_clusters_and_the_mistakes_of_bad_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clusters = dir.path().join("clusters");
    std::fs::create_dir_all(&clusters).expect("clusters dir");
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/clusters/production.mysite.toml");
    std::fs::copy(example, clusters.join("production.toml")).expect("copy example");
    std::fs::write(
        clusters.join("broken.toml"),
        "[cluster]\nname = \"x\"\nregion = eu\n",
    )
    .expect("write");
    let moto = start_moto(dir.path()).await;
    let web = dummy_web_dir(dir.path());
    let server = KnitServer::on_moto(
        &dir.path().join("data"),
        &moto,
        &web,
        &["--clusters", clusters.to_str().expect("utf-8")],
    );
    let list: ClusterList = server
        .get("/clusters")
        .await
        .expect("clusters")
        .json()
        .await
        .expect("clusters JSON");
    assert_eq!(list.clusters.len(), 1);
    let production = &list.clusters[0];
    assert_eq!(production.name, "production.mysite");
    let frontend = production
        .machines
        .iter()
        .find(|m| m.name == "frontend")
        .expect("frontend");
    assert!(
        frontend
            .roles
            .contains(&("proxy".to_owned(), "nginx_proxy".to_owned()))
    );
    assert_eq!(list.errors.len(), 1);
    assert!(
        list.errors[0].contains("broken.toml:3:10:"),
        "{:?}",
        list.errors
    );
    server.stop();
}
