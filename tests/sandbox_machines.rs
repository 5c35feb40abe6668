//! An instance launched in the sandbox is a real machine (#25): launched through the wizard's
//! API, its progress reaches SSH-ready for real; it answers SSH as `admin` with the launch's
//! key pair and the host key the sandbox trusted; its user data ran once; and it follows the
//! instance list's stop (powered off, disk kept), start and terminate (destroyed). Faults staged
//! on machines mid-run (powered off, rebooted between runs, frozen) fail their host alone.

use std::path::Path;
use std::time::Duration;

use knit::ec2::Ec2Target;
use knit_shared::{
    ActionRequest, CellStatus, Health, InstanceAction, InstanceList, NewGroup, NewRule, RunDetail,
    RunStatus, RunSummary, StartRun, WizardLaunched, WizardProgress, WizardRequest,
};

use crate::harness::{
    EventReader, KnitServer, MACHINES_RUN, names_starting, output_until, start_sandbox_with,
};

const PATIENCE: Duration = Duration::from_secs(90);

/// `ssh -F <the sandbox's ssh_config> <instance> <command>`.
async fn ssh(server: &KnitServer, instance: &str, command: &str) -> std::process::Output {
    let config = server.data_dir.join("sandbox/ssh_config");
    tokio::process::Command::new("ssh")
        .arg("-F")
        .arg(&config)
        .args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=5"])
        .args(["-o", "KexAlgorithms=curve25519-sha256", instance, command])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("ssh runs")
}

/// What `command` printed once it succeeds on `instance`, within `PATIENCE`.
async fn ssh_until(server: &KnitServer, instance: &str, command: &str) -> String {
    let what = format!("`{command}` on {instance}");
    output_until(&what, PATIENCE, || ssh(server, instance, command)).await
}

/// Waits until `check` holds of the sandbox's ssh_config, or panics with it.
async fn ssh_config_until(data: &Path, check: impl Fn(&str) -> bool) {
    let path = data.join("sandbox/ssh_config");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if check(&text) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}: {text}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn act(server: &KnitServer, action: InstanceAction, id: &str) {
    let ids = vec![id.to_owned()];
    let confirm = if action == InstanceAction::Terminate {
        ids.clone()
    } else {
        Vec::new()
    };
    let request = ActionRequest {
        profile: None,
        region: None,
        action,
        instance_ids: ids,
        confirm,
    };
    let response = server.post("/instances/actions", &request).await;
    assert!(
        response.status().is_success(),
        "{action:?}: {}",
        response.text().await.unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_launched_in_the_sandbox_boots_a_machine_that_answers_ssh_and_follows_its_instance()
 {
    let dir = tempfile::tempdir().expect("a folder");
    let (_moto, server) = start_sandbox_with(dir.path(), &["--sandbox-machines", "on"]).await;
    assert!(
        server.printed().contains(MACHINES_RUN),
        "{}",
        server.printed()
    );
    let request = WizardRequest {
        region: Some("us-east-1".to_owned()),
        image_id: "ami-12c6146b".to_owned(),
        instance_type: "t3.micro".to_owned(),
        count: 2,
        tags: vec![("Name".to_owned(), "machine".to_owned())],
        user_data: "#!/bin/sh\necho \"ran once as $(id -un)\" >> /srv/user-data\n".to_owned(),
        new_group: Some(NewGroup {
            name: "machine-ssh".to_owned(),
            rules: vec![NewRule {
                protocol: "tcp".to_owned(),
                ports: "22".to_owned(),
                source: "198.51.100.0/24".to_owned(),
            }],
        }),
        key_name: Some("knit-sandbox".to_owned()),
        client_token: "sandbox-machine-1".to_owned(),
        ..WizardRequest::default()
    };
    let response = server.post("/wizard/launch", &request).await;
    let text = response.text().await.expect("body");
    let launched: WizardLaunched =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let (id, other) = (
        launched.instance_ids[0].clone(),
        launched.instance_ids[1].clone(),
    );

    // The wizard's progress view sees the machine's sshd answer.
    let mut progress = server
        .get(&format!("/wizard/progress?ids={id}"))
        .await
        .expect("progress");
    let mut reader = EventReader::default();
    let mut seen = Vec::new();
    while let Some(event) = reader.next::<WizardProgress>(&mut progress).await {
        let ready = event.instances[0].ssh;
        seen.push(event);
        if ready {
            break;
        }
    }
    assert!(
        seen.last().is_some_and(|last| last.instances[0].ssh),
        "{seen:?}"
    );

    ssh_config_until(&server.data_dir, |text| {
        text.contains(&format!("Host {id} "))
    })
    .await;
    let said = ssh_until(&server, &id, "sudo -n id -u; hostname; cat /srv/user-data").await;
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines[0], "0", "{said}");
    let list: InstanceList = server.get_json("/instances").await;
    let private_ip_of = |id: &str| {
        list.instances
            .iter()
            .find(|instance| instance.id == id)
            .and_then(|instance| instance.private_ip.clone())
            .expect("the instance has a private address")
    };
    let private_ip = private_ip_of(&id);
    // Named as EC2 names its Debian machines: by the private address, dashed.
    assert_eq!(
        lines[1],
        format!("ip-{}", private_ip.replace('.', "-")),
        "{said}"
    );
    assert_eq!(lines[2..], ["ran once as root"], "{said}");

    // The two reach each other by their private addresses, as in a VPC.
    ssh_until(&server, &other, "true").await;
    let dial = format!(
        "timeout 5 bash -c 'exec 3<>/dev/tcp/{}/22; head -c 4 <&3'",
        private_ip_of(&other)
    );
    assert_eq!(ssh_until(&server, &id, &dial).await, "SSH-");

    // Stop powers it off; start boots it again with its disk and without running user data again.
    ssh_until(&server, &id, "echo kept | sudo -n tee /srv/mark").await;
    act(&server, InstanceAction::Stop, &id).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while ssh(&server, &id, "true").await.status.success() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} still answers after stop"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    act(&server, InstanceAction::Start, &id).await;
    let said = ssh_until(&server, &id, "cat /srv/mark /srv/user-data").await;
    assert_eq!(said, "kept\nran once as root");

    // Reboot from the instance list reboots the machine: what lived in /run is gone, the disk
    // is kept.
    ssh_until(&server, &id, "sudo -n touch /run/before-reboot").await;
    act(&server, InstanceAction::Reboot, &id).await;
    let said = ssh_until(
        &server,
        &id,
        "test ! -e /run/before-reboot && cat /srv/mark",
    )
    .await;
    assert_eq!(said, "kept");

    // The sandbox's EC2 (the endpoint it gives everyone) shows the machine's console output,
    // with its host key where cloud-init prints it.
    let health: Health = server.get_json("/health").await;
    let endpoint = health.sandbox.expect("a sandbox").ec2_endpoint;
    let ec2 = knit::ec2::connect(&Ec2Target {
        endpoint: Some(endpoint),
        region: Some("us-east-1".to_owned()),
        dummy_credentials: true,
        ..Ec2Target::default()
    })
    .await
    .0;
    let console = knit::ec2::console_output(&ec2, &Ec2Target::default(), &id)
        .await
        .expect("console output")
        .expect("the machine has printed");
    let keys = knit::launch::host_keys_in(&console);
    let trusted =
        std::fs::read_to_string(server.data_dir.join("known_hosts")).expect("known_hosts");
    assert!(
        keys.first()
            .is_some_and(|key| trusted.contains(key.as_str())),
        "{keys:?} in {console}"
    );

    // Terminate destroys it: its namespace goes, and its Host leaves the ssh_config.
    act(&server, InstanceAction::Terminate, &id).await;
    ssh_config_until(&server.data_dir, |text| !text.contains(&id)).await;
    let network = knit::sandbox::machines_network(&server.data_dir);
    let left = names_starting("/run/netns", &network);
    assert!(!left.iter().any(|name| name.ends_with(&id)), "{left:?}");

    // Stopped, the sandbox leaves no namespace behind (nor, so, any machine's link).
    server.stop();
    assert_eq!(names_starting("/run/netns", &network), Vec::<String>::new());
}

/// A cluster of two launched machines whose task says where it ran, as whom, with sudo.
const BOXES: &str = r#"[cluster]
name = "boxes"
region = "us-east-1"
key_name = "knit-sandbox"
key_file = "{KEY_FILE}"
user = "admin"
connect = "private_ip"
host_keys = "console_output"

[machines.box]
ami = "ami-12c6146b"
instance_type = "t3.micro"
security_groups = ["box"]
count = 2
[machines.box.roles.probe]
kind = "prober"

[kinds.prober.tasks]
say = ["echo \"said by $(hostname) as $(sudo -n id -un)\""]

[scenarios.say]
steps = ["probe.say"]

[firewall.box]
rules = [{ proto = "tcp", ports = "22", from = "198.51.100.0/24" }]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_clusters_launch_boots_machines_trusts_their_console_keys_and_its_runs_reach_them() {
    let dir = tempfile::tempdir().expect("a folder");
    let (_moto, server) = start_sandbox_with(dir.path(), &["--sandbox-machines", "on"]).await;
    server.add_sandbox_cluster("boxes.toml", BOXES);

    let (launch, log) = server.run_to_end("boxes", "launch", PATIENCE).await;
    assert_eq!(launch.status, RunStatus::Ok, "{log}");
    // Only from the console output: `host_keys = "console_output"` trusts no first connection.
    assert_eq!(log.matches("from the console output").count(), 2, "{log}");

    let (said, log) = server.run_to_end("boxes", "say", PATIENCE).await;
    assert_eq!(said.status, RunStatus::Ok, "{log}");
    let hostnames: std::collections::BTreeSet<&str> = log
        .lines()
        .filter_map(|line| line.split(" stdout | said by ").nth(1))
        .collect();
    assert_eq!(hostnames.len(), 2, "{log}");
    assert!(
        hostnames
            .iter()
            .all(|said| said.starts_with("ip-10-") && said.ends_with(" as root")),
        "{log}"
    );
    server.stop();
}

/// Two launched machines whose `nap` runs long enough for a fault to meet it mid-command.
const NAPPERS: &str = r#"[cluster]
name = "nappers"
region = "us-east-1"
key_name = "knit-sandbox"
key_file = "{KEY_FILE}"
user = "admin"
connect = "private_ip"
host_keys = "console_output"

[machines.box]
ami = "ami-12c6146b"
instance_type = "t3.micro"
security_groups = ["nappers"]
count = 2
[machines.box.roles.napper]
kind = "napper"

[kinds.napper.tasks]
nap = ["echo \"napping on $(hostname)\"; sleep 20; echo \"woke on $(hostname)\""]
hello = ["echo \"hello from $(hostname)\""]

[scenarios.nap]
steps = ["napper.nap"]
[scenarios.hello]
steps = ["napper.hello"]

[firewall.nappers]
rules = [{ proto = "tcp", ports = "22", from = "198.51.100.0/24" }]
"#;

/// Starts the nappers' `nap` and waits until both hosts said `napping`: the run's id.
async fn nap_begun(server: &KnitServer) -> i64 {
    let request = StartRun {
        cluster: "nappers".to_owned(),
        scenario: "nap".to_owned(),
        ..StartRun::default()
    };
    let run: RunSummary = server
        .post("/runs", &request)
        .await
        .json()
        .await
        .expect("run");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let log = server
            .get(&format!("/runs/{}/log", run.id))
            .await
            .expect("log");
        let log = log.text().await.expect("text");
        if log.matches("stdout | napping on ").count() == 2 {
            return run.id;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no nap began: {log}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The nappers' instances: (id, hostname), in the order of the instance list.
async fn nappers(server: &KnitServer) -> Vec<(String, String)> {
    let list: InstanceList = server.get_json("/instances").await;
    list.instances
        .iter()
        .filter(|instance| instance.tags.get("knit:cluster").map(String::as_str) == Some("nappers"))
        .filter_map(|instance| {
            let ip = instance.private_ip.as_deref()?;
            Some((instance.id.clone(), format!("ip-{}", ip.replace('.', "-"))))
        })
        .collect()
}

/// Stops or resumes every process of machine `instance`'s cgroup: frozen, it answers nothing,
/// as if cut off from the network.
fn freeze(server: &KnitServer, instance: &str, signal: &str) {
    let network = knit::sandbox::machines_network(&server.data_dir);
    let mut pending =
        vec![Path::new("/sys/fs/cgroup/systemd/knit").join(format!("{network}-{instance}"))];
    let mut pids = Vec::new();
    while let Some(folder) = pending.pop() {
        let procs = std::fs::read_to_string(folder.join("cgroup.procs")).unwrap_or_default();
        pids.extend(procs.lines().map(str::to_owned));
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                pending.push(entry.path());
            }
        }
    }
    assert!(!pids.is_empty(), "{instance} has no processes");
    let status = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .args(&pids)
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pids:?}");
}

/// The cell of the nappers' only step on the host that printed `hostname`'s lines.
fn cell_of<'a>(detail: &'a RunDetail, log: &str, hostname: &str) -> &'a knit_shared::Cell {
    let host = log
        .lines()
        .find(|line| line.ends_with(&format!("napping on {hostname}")))
        .and_then(|line| line.split_whitespace().nth(1))
        .expect("the host's line");
    let index = detail
        .plan
        .hosts
        .iter()
        .position(|planned| planned.name == host)
        .expect("the host is in the plan");
    detail.grid.cells[0][index].as_ref().expect("a cell")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_machine_powered_off_rebooted_or_frozen_mid_run_fails_alone_and_the_next_run_succeeds() {
    let dir = tempfile::tempdir().expect("a folder");
    let (_moto, server) = start_sandbox_with(dir.path(), &["--sandbox-machines", "on"]).await;
    server.add_sandbox_cluster("nappers.toml", NAPPERS);
    let (launch, log) = server.run_to_end("nappers", "launch", PATIENCE).await;
    assert_eq!(launch.status, RunStatus::Ok, "{log}");
    let boxes = nappers(&server).await;
    let [(victim, victim_name), (other, other_name)] = [boxes[0].clone(), boxes[1].clone()];

    // Powered off in the middle of its command: its cell fails with the reason, the other
    // host's command runs to its end, and the log keeps both.
    let id = nap_begun(&server).await;
    act(&server, InstanceAction::Stop, &victim).await;
    let (detail, log) = server.wait_for_end(id, PATIENCE).await;
    assert_eq!(detail.run.status, RunStatus::Failed, "{log}");
    let lost = cell_of(&detail, &log, &victim_name);
    assert_eq!(lost.status, CellStatus::Failed, "{log}");
    assert!(
        lost.reason.as_deref().is_some_and(|r| !r.is_empty()),
        "{lost:?}"
    );
    assert_eq!(cell_of(&detail, &log, &other_name).status, CellStatus::Ok);
    assert!(log.contains(&format!("woke on {other_name}")), "{log}");
    assert!(!log.contains(&format!("woke on {victim_name}")), "{log}");

    // Started again, and the other rebooted between two runs: the kept connections are
    // replaced and the next run succeeds on both.
    act(&server, InstanceAction::Start, &victim).await;
    ssh_until(&server, &victim, "true").await;
    ssh_until(&server, &other, "sudo -n touch /run/before-reboot").await;
    act(&server, InstanceAction::Reboot, &other).await;
    ssh_until(&server, &other, "test ! -e /run/before-reboot").await;
    let (hello, log) = server.run_to_end("nappers", "hello", PATIENCE).await;
    assert_eq!(hello.status, RunStatus::Ok, "{log}");
    for name in [&victim_name, &other_name] {
        assert!(log.contains(&format!("hello from {name}")), "{log}");
    }

    // Frozen mid-command (it answers nothing, as if cut off): its host fails once SSH's
    // keep-alives give up, about 45 s, and the run does not hang on it.
    let id = nap_begun(&server).await;
    freeze(&server, &victim, "STOP");
    let frozen_at = tokio::time::Instant::now();
    let (detail, log) = server.wait_for_end(id, Duration::from_secs(150)).await;
    let took = frozen_at.elapsed();
    freeze(&server, &victim, "CONT");
    assert!(
        took < Duration::from_secs(120),
        "the run took {took:?} after the freeze"
    );
    assert_eq!(
        cell_of(&detail, &log, &victim_name).status,
        CellStatus::Failed,
        "{log}"
    );
    assert_eq!(
        cell_of(&detail, &log, &other_name).status,
        CellStatus::Ok,
        "{log}"
    );
    server.stop();
}
