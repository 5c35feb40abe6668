//! The example's deploy on three real machines (#25): the sandbox's demo cluster (two frontends
//! with nginx and a Django site, a database machine) launched and installed once, then
//! `deploy` v1, `deploy` v2 and `rollback`, by knit, by an Ansible playbook and by a Fabric
//! script running the same steps on the same machines. Each step's commands are knit's own,
//! rendered for each host, so the tools differ only in how they get them there. Beside each
//! time: the sum over steps of the slowest host's command time in knit's run (the floor no tool
//! goes under). Prints figures; it never passes or fails on time.
//!
//! Run: `.ci/bench` as root (machines need it; it installs ansible-core and Fabric into a venv).

#[path = "../tests/harness/mod.rs"]
#[expect(
    dead_code,
    unused_imports,
    reason = "the bench uses only part of the test harness"
)]
mod harness;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use knit::clusters::{self, Library, Plan};
use knit::ec2::Ec2Target;
use knit_shared::{Health, RunDetail, RunStatus, StartRun};

use harness::{KnitServer, start_sandbox_with};

const CLUSTER: &str = "sandbox.demo";
/// Packages from Debian's mirror and PyPI on a first run.
const INSTALL: Duration = Duration::from_secs(900);
const DEPLOY: Duration = Duration::from_secs(600);
/// What is timed, in order, and the ref each deploys.
/// The deploy is the maintenance page's, every host at once, as the other tools run it.
const RUNS: [(&str, &str, Option<&str>); 3] = [
    ("deploy v1", "deploy_offline", Some("v1")),
    ("deploy v2", "deploy_offline", Some("v2")),
    ("rollback", "rollback", None),
];

#[tokio::main]
async fn main() {
    let Some(venv) = std::env::var_os("KNIT_BENCH_VENV").map(PathBuf::from) else {
        println!("deploy on machines: skipped (KNIT_BENCH_VENV names no Ansible and Fabric)");
        return;
    };
    if let Some(reason) = knit::sandbox::machines::unavailable() {
        println!("deploy on machines: skipped, real machines cannot run here: {reason}");
        return;
    }
    let dir = tempfile::tempdir().expect("a folder");
    let (_moto, server) = start_sandbox_with(dir.path(), &["--sandbox-machines", "on"]).await;
    for scenario in ["launch", "install"] {
        let (run, log) = server.run_to_end(CLUSTER, scenario, INSTALL).await;
        assert_eq!(run.status, RunStatus::Ok, "{scenario}: {log}");
    }
    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("a folder");
    let ssh_config = server.data_dir.join("sandbox/ssh_config");

    // A first deploy makes each frontend's virtualenv (a minute of pip): done once, untimed, so
    // every tool meets the same machines.
    let warm_up = start_request("deploy", Some("v1"));
    let (run, log) = server.start_to_end(&warm_up, INSTALL).await;
    assert_eq!(run.status, RunStatus::Ok, "the first deploy: {log}");

    let mut rows: Vec<(&str, Duration, Duration)> = Vec::new();
    for (label, scenario, git_ref) in RUNS {
        let request = start_request(scenario, git_ref);
        let began = Instant::now();
        let (run, log) = server.start_to_end(&request, DEPLOY).await;
        let knit = began.elapsed();
        assert_eq!(run.status, RunStatus::Ok, "{label}: {log}");
        let detail: RunDetail = server.get_json(&format!("/runs/{}", run.id)).await;
        rows.push((label, slowest_per_step(&detail), knit));
    }
    let mut others: Vec<(Option<Duration>, Option<Duration>)> = Vec::new();
    for (label, scenario, git_ref) in RUNS {
        let steps = steps_of(&plan(&server, &start_request(scenario, git_ref)).await);
        let ansible = timed(
            ansible(&venv, &tools, &ssh_config, &steps),
            label,
            "ansible",
        );
        others.push((ansible, None));
    }
    for (index, (label, scenario, git_ref)) in RUNS.into_iter().enumerate() {
        let steps = steps_of(&plan(&server, &start_request(scenario, git_ref)).await);
        let json = tools.join(format!("{}.json", label.replace(' ', "-")));
        std::fs::write(&json, serde_json::to_string(&steps).expect("json")).expect("steps");
        others[index].1 = timed(fabric(&venv, &tools, &ssh_config, &json), label, "fabric");
    }
    println!("\n| 3 machines (2 frontends, 1 database) | limit | knit | Ansible | Fabric |");
    println!("| --- | --- | --- | --- | --- |");
    for ((label, limit, knit), (ansible, fabric)) in rows.into_iter().zip(others) {
        let ratio = |d: Option<Duration>| match d {
            Some(d) => format!("{} ({:.2}×)", ms(d), d.as_secs_f64() / limit.as_secs_f64()),
            None => "failed".to_owned(),
        };
        println!(
            "| {label} | {} | {} | {} | {} |",
            ms(limit),
            ratio(Some(knit)),
            ratio(ansible),
            ratio(fabric)
        );
    }
    server.stop();
}

fn ms(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// A run of the demo's `scenario`, with `ref` when given.
fn start_request(scenario: &str, git_ref: Option<&str>) -> StartRun {
    StartRun {
        cluster: CLUSTER.to_owned(),
        scenario: scenario.to_owned(),
        params: git_ref
            .map(|r| [("ref".to_owned(), r.to_owned())].into())
            .unwrap_or_default(),
        ..StartRun::default()
    }
}

/// The sum over the run's steps of its slowest host's command time.
fn slowest_per_step(detail: &RunDetail) -> Duration {
    let millis: i64 = detail
        .grid
        .cells
        .iter()
        .map(|step| {
            step.iter()
                .flatten()
                .filter_map(|cell| Some(cell.finished_ms? - cell.started_ms?))
                .max()
                .unwrap_or(0)
        })
        .sum();
    Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// The plan knit makes of `request` on the demo's instances now.
async fn plan(server: &KnitServer, request: &StartRun) -> Plan {
    let loaded = clusters::load_dir(
        &server.data_dir.join("sandbox/clusters"),
        Library::builtin(),
    );
    let definition = loaded
        .definitions
        .into_iter()
        .find(|d| d.name() == CLUSTER)
        .expect("the demo's definition");
    let health: Health = server.get_json("/health").await;
    let target = Ec2Target {
        endpoint: Some(health.sandbox.expect("a sandbox").ec2_endpoint),
        region: Some("us-east-1".to_owned()),
        dummy_credentials: true,
        ..Ec2Target::default()
    };
    let (client, _) = knit::ec2::connect(&target).await;
    let hosts = knit::runs::machine_hosts(&definition, Some((&client, &target)))
        .await
        .expect("the demo's instances");
    definition
        .plan(
            Library::builtin(),
            &hosts,
            request,
            &knit::clusters::run_stamp(),
        )
        .expect("the scenario expands")
}

/// One command as the other tools run it: a script for `sh`, and what it reads on stdin.
#[derive(serde::Serialize)]
struct Script {
    script: String,
    stdin: String,
}

/// Each step's scripts by host address, in order; a `once` step on its first host only.
fn steps_of(plan: &Plan) -> Vec<BTreeMap<String, Vec<Script>>> {
    plan.steps
        .iter()
        .map(|step| {
            let jobs = if step.once {
                &step.jobs[..1]
            } else {
                &step.jobs[..]
            };
            jobs.iter()
                .map(|job| {
                    let scripts = job
                        .commands
                        .iter()
                        .map(|command| match command {
                            clusters::Command::Run { script, .. } => Script {
                                script: script.clone(),
                                stdin: String::new(),
                            },
                            clusters::Command::Upload {
                                upload_script,
                                content,
                                ..
                            } => Script {
                                script: upload_script.clone(),
                                stdin: content.clone(),
                            },
                        })
                        .collect();
                    (plan.hosts[job.host].target.host.clone(), scripts)
                })
                .collect()
        })
        .collect()
}

/// Runs `command` to its end and says how long it took, or, if it failed, why (the bench
/// goes on: a tool's failure is a finding too).
fn timed(mut command: Command, label: &str, tool: &str) -> Option<Duration> {
    let began = Instant::now();
    let output = command.output().expect("the tool runs");
    let took = began.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        println!(
            "deploy on machines: {label} by {tool} FAILED after {}:\n{stdout}\n{}",
            ms(took),
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    println!("deploy on machines: {label} by {tool}: {}", ms(took));
    for line in stdout.lines() {
        if let Some(said) = line.strip_prefix("said: ") {
            println!("  {said}");
        }
    }
    Some(took)
}

/// An Ansible playbook of one play per step over the hosts that have something to do in it,
/// each task one of knit's scripts (`shell` with its stdin), through the sandbox's ssh_config.
fn ansible(
    venv: &Path,
    dir: &Path,
    ssh_config: &Path,
    steps: &[BTreeMap<String, Vec<Script>>],
) -> Command {
    let mut hosts: Vec<&String> = steps.iter().flat_map(BTreeMap::keys).collect();
    hosts.sort();
    hosts.dedup();
    let inventory: String = hosts
        .iter()
        .map(|host| format!("{host} ansible_python_interpreter=/usr/bin/python3\n"))
        .collect();
    std::fs::write(dir.join("inventory.ini"), inventory).expect("inventory");
    let mut playbook = String::new();
    for (index, step) in steps.iter().enumerate() {
        let on: Vec<&str> = step.keys().map(String::as_str).collect();
        playbook.push_str(&format!(
            "- name: step {index}\n  hosts: {}\n  gather_facts: false\n  tasks:\n",
            on.join(",")
        ));
        let longest = step.values().map(Vec::len).max().unwrap_or(0);
        for task in 0..longest {
            let var = format!("knit_{index}_{task}");
            playbook.push_str(&format!(
                "    - ansible.builtin.shell:\n        cmd: \"{{{{ {var}_script }}}}\"\n        \
                 stdin: \"{{{{ {var}_stdin }}}}\"\n        stdin_add_newline: false\n        \
                 executable: /bin/sh\n      when: {var}_script is defined\n"
            ));
        }
    }
    std::fs::write(dir.join("playbook.yml"), playbook).expect("playbook");
    let vars = dir.join("host_vars");
    std::fs::create_dir_all(&vars).expect("host_vars");
    // Each script a string Ansible does not template (`!unsafe`): knit rendered it already.
    for host in &hosts {
        let mut own = String::new();
        for (index, step) in steps.iter().enumerate() {
            for (task, script) in step.get(*host).into_iter().flatten().enumerate() {
                for (part, text) in [("script", &script.script), ("stdin", &script.stdin)] {
                    let quoted = serde_json::to_string(text).expect("json");
                    own.push_str(&format!("knit_{index}_{task}_{part}: !unsafe {quoted}\n"));
                }
            }
        }
        std::fs::write(vars.join(format!("{host}.yml")), own).expect("host vars");
    }
    std::fs::write(
        dir.join("ansible.cfg"),
        format!(
            "[defaults]\nforks = 10\nhost_key_checking = True\n\
             [ssh_connection]\npipelining = True\ncontrol_path_dir = {dir}/cp\n\
             ssh_args = -F {config} -o ControlMaster=auto -o ControlPersist=60s\n",
            dir = dir.display(),
            config = ssh_config.display(),
        ),
    )
    .expect("ansible.cfg");
    let mut command = Command::new(venv.join("bin/ansible-playbook"));
    command
        .arg("-i")
        .arg(dir.join("inventory.ini"))
        .arg(dir.join("playbook.yml"))
        .env("ANSIBLE_CONFIG", dir.join("ansible.cfg"))
        .env("ANSIBLE_LOCAL_TEMP", dir.join("tmp"))
        .env("ANSIBLE_HOME", dir.join("home"));
    command
}

/// Fabric: each step's hosts at once (a thread each, as `ThreadingGroup` does), each host's
/// scripts in order, through the sandbox's ssh_config. paramiko reads no `HostKeyAlias`, so the
/// script trusts each machine's key from knit's known_hosts under the address it dials.
const FABRIC: &str = r#"
import io, json, sys, threading, time
import paramiko
from fabric import Config, Connection

steps_file, ssh_config, known = sys.argv[1:4]
steps = json.load(open(steps_file))
config = Config(runtime_ssh_path=ssh_config)
trusted = paramiko.HostKeys(known)
connections = {}

def connect(host):
    if host not in connections:
        connection = Connection(host, config=config)
        seen = connection.ssh_config
        dialled = "[%s]:%s" % (seen["hostname"], seen["port"])
        for kind, key in trusted.lookup(seen.get("hostkeyalias", host)).items():
            connection.client.get_host_keys().add(dialled, kind, key)
        connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        connections[host] = connection
    return connections[host]

failures = []
def run(host, scripts):
    try:
        connection = connect(host)
        for script in scripts:
            connection.run(script["script"], hide=True, in_stream=io.StringIO(script["stdin"]))
    except Exception as error:
        failures.append("%s: %s" % (host, error))

for index, step in enumerate(steps):
    began = time.perf_counter()
    threads = [threading.Thread(target=run, args=item) for item in step.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit("\n".join(failures))
    print("said: step %d took %.2f s" % (index, time.perf_counter() - began))
"#;

fn fabric(venv: &Path, dir: &Path, ssh_config: &Path, steps: &Path) -> Command {
    let script = dir.join("fabric_deploy.py");
    std::fs::write(&script, FABRIC).expect("fabric script");
    let known = ssh_config
        .parent()
        .and_then(Path::parent)
        .expect("the data folder")
        .join("known_hosts");
    let mut python = Command::new(venv.join("bin/python"));
    python.arg(script).arg(steps).arg(ssh_config).arg(known);
    python
}
