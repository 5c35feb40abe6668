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
    let steps: Vec<&str> = deploy.steps.iter().map(|s| s.get_ref().name()).collect();
    assert_eq!(
        steps,
        [
            "django.prepare",
            "django.migrate",
            "django.static",
            "django.switch",
            "django.restart"
        ],
        "prepared, migrated, switched and restarted, batch by batch"
    );
    assert!(!deploy.serial.is_empty(), "a rolling deploy");
    let offline = production.file.scenarios["deploy_offline"].get_ref();
    assert_eq!(offline.finally[0].get_ref().name(), "proxy.site_up");
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

#[test]
fn uploads_from_outside_the_definitions_folder_are_refused_where_they_stand() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clusters = dir.path().join("clusters");
    std::fs::create_dir_all(clusters.join("templates")).expect("folders");
    std::fs::write(clusters.join("templates/site.conf"), "server {}\n").expect("template");
    std::fs::write(dir.path().join("secret"), "not for hosts\n").expect("secret");
    // A link inside the folder that leads out of it.
    std::os::unix::fs::symlink(
        dir.path().join("secret"),
        clusters.join("templates/link.conf"),
    )
    .expect("symlink");
    let kind = |upload: &str| {
        format!(
            "{HEAD}\n[kinds.site.tasks]\nconf = [{{ upload = {upload:?}, to = \"/tmp/site.conf\" }}]\n"
        )
    };
    for upload in [
        "/root/.aws/credentials",
        "../secret",
        "templates/../../secret",
        "templates/link.conf",
    ] {
        std::fs::write(clusters.join("bad.toml"), kind(upload)).expect("write");
        let loaded = load_dir(&clusters, Library::builtin());
        assert!(loaded.definitions.is_empty(), "{upload} must be refused");
        let error = &loaded.errors[0];
        assert_eq!(error.line, 10, "{upload}: {error}");
        assert!(
            error.message.contains("outside the definition's folder"),
            "{upload}: {error}"
        );
    }
    std::fs::write(clusters.join("bad.toml"), kind("templates/site.conf")).expect("write");
    let loaded = load_dir(&clusters, Library::builtin());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
}

#[test]
fn host_keys_says_where_a_launched_machines_key_may_come_from() {
    let with = |value: &str| {
        HEAD.replacen(
            "name = \"c\"\n",
            &format!("name = \"c\"\nhost_keys = \"{value}\"\n"),
            1,
        )
    };
    let errors = errors_of(&with("from_anywhere"));
    assert_eq!((errors[0].line, errors[0].column), (3, 13), "{}", errors[0]);
    assert!(
        errors[0].message.contains("first_seen or console_output"),
        "{}",
        errors[0]
    );
    for allowed in ["first_seen", "console_output"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("c.toml"), with(allowed)).expect("write");
        let loaded = load_dir(dir.path(), Library::builtin());
        assert!(loaded.errors.is_empty(), "{allowed}: {:?}", loaded.errors);
        let cluster = &loaded.definitions[0].file.cluster;
        assert_eq!(cluster.trusts_first_seen_keys(), allowed == "first_seen");
    }
}

#[test]
fn an_app_role_without_its_repository_is_a_mistake_where_the_role_stands() {
    let errors = errors_of(&format!(
        "{HEAD}[machines.web.roles.site]\nkind = \"django\"\nwsgi_module = \"site.wsgi\"\n"
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .message
            .contains("role site of machine web needs the setting repository"),
        "{}",
        errors[0]
    );
    assert!(errors[0].line >= 8, "{}", errors[0]);
}

#[test]
fn ssh_kex_names_a_choice_or_key_exchanges() {
    let with = |value: &str| {
        HEAD.replacen(
            "name = \"c\"\n",
            &format!("name = \"c\"\nssh_kex = \"{value}\"\n"),
            1,
        )
    };
    let errors = errors_of(&with("fast; rm -rf /"));
    assert!(
        errors[0]
            .message
            .contains("ssh_kex must be fast, post-quantum"),
        "{}",
        errors[0]
    );
    for allowed in [
        "fast",
        "post-quantum",
        "curve25519-sha256,sntrup761x25519-sha512@openssh.com",
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("c.toml"), with(allowed)).expect("write");
        let loaded = load_dir(dir.path(), Library::builtin());
        assert!(loaded.errors.is_empty(), "{allowed}: {:?}", loaded.errors);
    }
}

#[test]
fn ssh_idle_is_a_duration_or_zero() {
    let with = |value: &str| {
        HEAD.replacen(
            "name = \"c\"\n",
            &format!("name = \"c\"\nssh_idle = \"{value}\"\n"),
            1,
        )
    };
    let errors = errors_of(&with("a while"));
    assert!(
        errors[0]
            .message
            .contains("ssh_idle \"a while\" must be a number with s, m or h"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0].line, 3, "{}", errors[0]);
    for allowed in ["0s", "90s", "1h"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("c.toml"), with(allowed)).expect("write");
        let loaded = load_dir(dir.path(), Library::builtin());
        assert!(loaded.errors.is_empty(), "{allowed}: {:?}", loaded.errors);
    }
}

#[test]
fn notify_entries_need_a_url_known_events_and_a_known_format() {
    let errors = errors_of(&format!(
        "{HEAD}\n[[cluster.notify]]\non = [\"start\"]\n\
         [[cluster.notify]]\nurl = \"ftp://user:secret-token@host/x\"\n\
         [[cluster.notify]]\nurl_env = \"KNIT_HOOK\"\non = [\"deploy\"]\nformat = \"teams\"\n"
    ));
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(messages[0].contains("needs url = "), "{messages:?}");
    assert!(messages[1].contains("http:// or https://"), "{messages:?}");
    assert!(messages[2].contains("not \"deploy\""), "{messages:?}");
    assert!(
        messages[3].contains("json or slack, not \"teams\""),
        "{messages:?}"
    );
    // A URL is a secret: never repeated in a message.
    assert!(
        !messages.iter().any(|m| m.contains("secret-token")),
        "{messages:?}"
    );
}

#[test]
fn host_settings_name_hosts_of_their_machine_and_a_file_is_uploaded_or_written() {
    let errors = errors_of(&format!(
        "{HEAD}[machines.web.host_settings.web-2]\nport = 1\n\
         [machines.web.host_settings.web-1]\nport = 2\n\n\
         [kinds.k.tasks]\nx = [{{ upload = \"a.conf\", write = \"b\", to = \"/c\" }}]\n"
    ));
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(errors.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("host_settings names host \"web-2\", which machine web does not have: its hosts are web-1 to web-1"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("needs either upload (a template file) or write (its text), not both"),
        "{messages:?}"
    );
}

const PEERS: &str = r#"[cluster]
name = "peers"
[machines.web]
hosts = ["deploy@10.0.0.1", "deploy@10.0.0.2"]
[machines.web.roles.app]
kind = "probe"
[machines.web.host_settings.web-2]
port = 8001
[machines.lb]
hosts = ["deploy@10.0.0.9"]
[machines.lb.roles.front]
kind = "front"

[kinds.probe.settings]
port = 8000
prefix = "/opt/p/"
[kinds.probe.tasks]
show = ["echo {{ host }} {{ port }} {{ prefixed('etc/x') }}"]
[kinds.front.tasks]
show = [
  "echo{% for app in roles.app %} {{ app.host }}={{ app.address }}:{{ app.port }}{% endfor %}",
  { write = "only with a prefix", to = "{% if prefix is defined %}/x{% endif %}" },
]
refuse = ["{{ fail('front cannot ' ~ role) }}"]

[scenarios.show]
steps = ["ALL.show"]
[scenarios.refuse]
steps = ["front.refuse"]
"#;

#[test]
fn a_hosts_own_settings_win_and_templates_see_every_roles_hosts() {
    use knit::clusters::Command;
    use knit_shared::StartRun;

    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("peers.toml"), PEERS).expect("write");
    let loaded = load_dir(dir.path(), Library::builtin());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let definition = &loaded.definitions[0];
    let scripts = |request: &StartRun| -> Vec<(String, Vec<String>)> {
        let plan = definition
            .plan(
                Library::builtin(),
                &definition.static_hosts(),
                request,
                &knit::clusters::run_stamp(),
            )
            .expect("plan");
        plan.steps[0]
            .jobs
            .iter()
            .map(|job| {
                let scripts = job
                    .commands
                    .iter()
                    .map(|command| match command {
                        Command::Run { script, .. } => script.clone(),
                        Command::Upload { to, .. } => format!("write {to}"),
                    })
                    .collect();
                (plan.hosts[job.host].name.clone(), scripts)
            })
            .collect()
    };
    // The front's only command: its file is not wanted without a prefix. Its peers are every
    // app host, also those outside the run. Each value is a quoted word of the command.
    let only_front = StartRun {
        hosts: vec!["lb-1".to_owned()],
        ..StartRun::new("peers", "show")
    };
    assert_eq!(
        scripts(&only_front),
        [(
            "lb-1".to_owned(),
            vec!["echo 'web-1'='10.0.0.1':8000 'web-2'='10.0.0.2':8001".to_owned()]
        )]
    );
    let all = scripts(&StartRun::new("peers", "show"));
    assert_eq!(
        all.iter()
            .filter(|(host, _)| host.starts_with("web"))
            .map(|(host, scripts)| (host.as_str(), scripts[0].as_str()))
            .collect::<Vec<_>>(),
        [
            ("web-1", "echo 'web-1' 8000 '/opt/p/etc/x'"),
            ("web-2", "echo 'web-2' 8001 '/opt/p/etc/x'"),
        ]
    );

    // A template's fail() stops the plan with its words.
    let refused = definition
        .plan(
            Library::builtin(),
            &definition.static_hosts(),
            &StartRun::new("peers", "refuse"),
            &knit::clusters::run_stamp(),
        )
        .expect_err("refused");
    assert!(
        refused.to_string().contains("front cannot front"),
        "{refused}"
    );
}

#[test]
fn scenarios_needing_approval_need_approvers_and_a_timeout_that_reads() {
    let errors = errors_of(
        "[cluster]\nname = \"c\"\napproval = [\"deploy\"]\napproval_timeout = \"soon\"\n\n\
         [machines.web]\nhosts = [\"deploy@127.0.0.1:2201\"]\n[machines.web.roles.proxy]\nkind = \"nginx_proxy\"\n",
    );
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(errors.len(), 2, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("approval_timeout \"soon\" must be a number")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("deploy needs approval, but the cluster names no approvers")),
        "{messages:?}"
    );
}

#[test]
fn a_schedule_is_cron_in_a_known_zone_with_defaults_for_its_parameters() {
    let scenario =
        |extra: &str| format!("{HEAD}\n[scenarios.backup]\nsteps = [\"proxy.site_up\"]\n{extra}");
    let errors = errors_of(&scenario("schedule = \"at three\"\n"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("not a cron expression"),
        "{}",
        errors[0]
    );
    assert_eq!(
        (errors[0].line, errors[0].column),
        (11, 12),
        "{}",
        errors[0]
    );
    let errors = errors_of(&scenario(
        "schedule = \"0 3 * * *\"\ntimezone = \"Europe/Atlantis\"\n",
    ));
    assert!(
        errors[0].message.contains("not a time zone"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0].line, 12, "{}", errors[0]);
    let errors = errors_of(&scenario(
        "schedule = \"0 3 * * *\"\n[scenarios.backup.params.target]\ndescription = \"where\"\n",
    ));
    assert!(
        errors[0]
            .message
            .contains("parameter target needs a default"),
        "{}",
        errors[0]
    );
}
