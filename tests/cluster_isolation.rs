//! Two clusters in one EC2 region whose tags overlap and whose machine and firewall names are
//! the same: each finds, plans, launches and runs on only its own instances and groups, and a
//! group of the same name that belongs to neither is never changed. Launching again after an
//! instance was terminated starts a new one.

use std::path::Path;

use aws_sdk_ec2::types::{Filter, IpPermission, IpRange};
use knit_shared::ClusterList;

use crate::harness::{
    KnitServer, dummy_web_dir, inbound_cidrs, knit_on_moto, moto_client, start_moto,
};

/// A cluster tagged only `Stage=Production` with one machine `web` in group `webserver`,
/// which lets in `port` from anywhere.
fn cluster(name: &str, port: u16) -> String {
    format!(
        r#"[cluster]
name = "{name}"
region = "us-east-1"
wait_for_ssh = false
connect = "private_ip"
[cluster.tags]
Stage = "Production"

[machines.web]
ami = "ami-12c6146b"
instance_type = "t3.micro"
security_groups = ["webserver"]
[machines.web.roles.app]
kind = "hello"

[kinds.hello.tasks]
install = ["echo hello from {{{{ host }}}}"]

[firewall.webserver]
rules = [{{ proto = "tcp", ports = "{port}", from = "0.0.0.0/0" }}]
"#
    )
}

/// `knit ARGS`, which must succeed; its standard output.
fn knit_ok(clusters: &Path, data: &Path, moto: &str, args: &[&str]) -> String {
    let output = knit_on_moto(clusters, data, moto, args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "knit {args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The ids of the instances tagged `knit:cluster = cluster` in `state`.
async fn instances_of(ec2: &aws_sdk_ec2::Client, cluster: &str, state: &str) -> Vec<String> {
    let found = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("tag:knit:cluster")
                .values(cluster)
                .build(),
        )
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values(state)
                .build(),
        )
        .send()
        .await
        .expect("instances");
    found
        .reservations()
        .iter()
        .flat_map(|r| r.instances().iter().filter_map(|i| i.instance_id()))
        .map(str::to_owned)
        .collect()
}

async fn group_named(ec2: &aws_sdk_ec2::Client, name: &str) -> aws_sdk_ec2::types::SecurityGroup {
    let found = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("group-name").values(name).build())
        .send()
        .await
        .expect("groups");
    let groups = found.security_groups();
    assert_eq!(groups.len(), 1, "one group named {name}: {groups:?}");
    groups[0].clone()
}

#[tokio::test]
async fn clusters_with_overlapping_tags_and_names_touch_only_their_own_machines_and_groups() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clusters = dir.path().join("clusters");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&clusters).expect("clusters dir");
    std::fs::write(clusters.join("a.toml"), cluster("shop.a", 80)).expect("definition a");
    std::fs::write(clusters.join("b.toml"), cluster("shop.b", 443)).expect("definition b");
    let moto = start_moto(dir.path()).await;
    let endpoint = moto.endpoint();
    let ec2 = moto_client(&moto, "us-east-1").await;

    // Someone else's group named like the firewall group, with a rule of its own.
    let stranger = ec2
        .create_security_group()
        .group_name("webserver")
        .description("not a knit cluster's")
        .send()
        .await
        .expect("group")
        .group_id()
        .expect("id")
        .to_owned();
    ec2.authorize_security_group_ingress()
        .group_id(&stranger)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(8080)
                .to_port(8080)
                .ip_ranges(IpRange::builder().cidr_ip("203.0.113.0/24").build())
                .build(),
        )
        .send()
        .await
        .expect("rule");

    let first = knit_ok(
        &clusters,
        &data,
        &endpoint,
        &["shop.a", "launch", "--yes", "shop.a"],
    );
    assert!(first.contains("created webserver"), "{first}");
    // b's plan knows nothing of a's instance or group.
    let plan_b = knit_ok(&clusters, &data, &endpoint, &["shop.b", "changes"]);
    assert_eq!(
        plan_b.lines().collect::<Vec<_>>(),
        [
            "create security group webserver",
            "add rule tcp 443 from 0.0.0.0/0 to webserver",
            "launch 1 × t3.micro (ami-12c6146b) for web",
        ]
    );
    knit_ok(
        &clusters,
        &data,
        &endpoint,
        &["shop.b", "launch", "--yes", "shop.b"],
    );

    // Each cluster has its own group with its own rule; the stranger's is as it was.
    let group_a = group_named(&ec2, "shop.a-webserver").await;
    let group_b = group_named(&ec2, "shop.b-webserver").await;
    assert_eq!(inbound_cidrs(&group_a), [(80, "0.0.0.0/0".to_owned())]);
    assert_eq!(inbound_cidrs(&group_b), [(443, "0.0.0.0/0".to_owned())]);
    assert_eq!(
        inbound_cidrs(&group_named(&ec2, "webserver").await),
        [(8080, "203.0.113.0/24".to_owned())]
    );

    // Each sees one instance, its own; neither launch would change anything now.
    let a = instances_of(&ec2, "shop.a", "running").await;
    let b = instances_of(&ec2, "shop.b", "running").await;
    assert_eq!((a.len(), b.len()), (1, 1), "{a:?} {b:?}");
    for (name, own, other) in [("shop.a", &a[0], &b[0]), ("shop.b", &b[0], &a[0])] {
        let plan = knit_ok(&clusters, &data, &endpoint, &[name, "changes"]);
        assert_eq!(
            plan.trim(),
            format!("EC2 matches {name}: launch would change nothing")
        );
        let hosts = knit_ok(&clusters, &data, &endpoint, &[name, "hosts"]);
        assert_eq!(hosts.lines().count(), 1, "{hosts}");
        // A run goes where `hosts` and its dry run say: the cluster's own instance.
        let run = knit_ok(&clusters, &data, &endpoint, &[name, "install", "--dry-run"]);
        // As a host is written: `address:22`, so one address cannot be read inside another.
        let (own, other) = (
            format!("{}:22", instance_address(&moto, own).await),
            format!("{}:22", instance_address(&moto, other).await),
        );
        assert!(hosts.contains(&own) && run.contains(&own), "{hosts}{run}");
        assert!(
            !hosts.contains(&other) && !run.contains(&other),
            "{hosts}{run}"
        );
    }

    // The console's picture of each cluster shows its own instance only.
    let server = KnitServer::on_moto(
        &data,
        &moto,
        &dummy_web_dir(dir.path()),
        &["--clusters", clusters.to_str().expect("utf-8")],
    );
    let list: ClusterList = server
        .get("/clusters")
        .await
        .expect("clusters")
        .json()
        .await
        .expect("clusters JSON");
    for (name, own) in [("shop.a", &a), ("shop.b", &b)] {
        let cluster = list.clusters.iter().find(|c| c.name == name).expect(name);
        let shown: Vec<&str> = cluster.machines[0]
            .instances
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(shown, [own[0].as_str()], "{name}");
    }
    server.stop();
}

/// The private address moto gave instance `id`, as `hosts` shows it (`connect = "private_ip"`;
/// nothing connects to it).
async fn instance_address(moto: &knit::sandbox::Moto, id: &str) -> String {
    let ec2 = moto_client(moto, "us-east-1").await;
    let found = ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("instance");
    found.reservations()[0].instances()[0]
        .private_ip_address()
        .expect("a private address")
        .to_owned()
}

#[tokio::test]
async fn a_terminated_machine_is_replaced_by_the_next_launch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let clusters = dir.path().join("clusters");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&clusters).expect("clusters dir");
    std::fs::write(clusters.join("a.toml"), cluster("shop.a", 80)).expect("definition");
    let moto = start_moto(dir.path()).await;
    let endpoint = moto.endpoint();
    let ec2 = moto_client(&moto, "us-east-1").await;

    knit_ok(
        &clusters,
        &data,
        &endpoint,
        &["shop.a", "launch", "--yes", "shop.a"],
    );
    let first = instances_of(&ec2, "shop.a", "running").await;
    assert_eq!(first.len(), 1);
    ec2.terminate_instances()
        .instance_ids(&first[0])
        .send()
        .await
        .expect("terminate");

    let again = knit_ok(
        &clusters,
        &data,
        &endpoint,
        &["shop.a", "launch", "--yes", "shop.a"],
    );
    assert!(again.contains("launch 1 × t3.micro"), "{again}");
    let running = instances_of(&ec2, "shop.a", "running").await;
    assert_eq!(running.len(), 1, "a new instance runs: {again}");
    assert_ne!(running[0], first[0]);
}
