//! A six-step scenario on 20 loopback sshd hosts: knit's wall time against Ansible (forks 20,
//! pipelining, ControlPersist) and Fabric 3 (ThreadingGroup) running the same commands on the
//! same hosts, and against the physical limit: the sum over steps of the slowest command's own
//! duration. Also the per-command cost on a warm connection. Prints figures and ratios; it never
//! passes or fails on time.
//!
//! Run: `.ci/bench` (it installs ansible-core and Fabric into a venv of their own).

#[path = "../tests/harness/mod.rs"]
#[expect(
    dead_code,
    unused_imports,
    reason = "the bench uses only part of the test harness"
)]
mod harness;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use knit::ssh::exec::{self, Exit, Remote};
use knit::ssh::{self, Identity};
use knit::store::Store;
use knit_shared::{RunEventBody, RunQuery};
use tokio_util::sync::CancellationToken;

use harness::{TestHosts, knit_command, start_hosts};

const HOSTS: usize = 20;
/// What each step's command sleeps, in seconds: unequal, as real steps are.
const SLEEPS: [&str; 6] = ["0.20", "0.10", "0.30", "0.05", "0.25", "0.10"];
const ROUNDS: usize = 3;
const WARM_COMMANDS: u32 = 200;

/// Step `k`'s command: sleeps, then prints how long it took by its own clock, in µs.
fn command(step: usize) -> String {
    format!(
        "t0=$(date +%s%N); sleep {}; echo took s{step} $(( ($(date +%s%N) - t0) / 1000 ))",
        SLEEPS[step]
    )
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names: Vec<String> = (1..=HOSTS).map(|n| format!("host{n:02}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    println!("starting {HOSTS} sshd hosts on loopback…");
    let hosts = start_hosts(dir.path(), &name_refs).await;
    write_cluster(&hosts);

    let mut knit_times = Vec::new();
    let mut limit = Duration::ZERO;
    for _ in 0..ROUNDS {
        let mut knit = knit_command();
        knit.arg("--clusters")
            .arg(&hosts.clusters)
            .arg("--data-dir")
            .arg(dir.path())
            .args(["bench", "six"]);
        let (elapsed, output) = timed((knit, String::new()));
        knit_times.push(elapsed);
        limit = physical_limit(&output);
    }

    let breakdown = step_spans(dir.path()).await;

    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("tools dir");
    let venv = std::env::var_os("KNIT_BENCH_VENV").map(PathBuf::from);
    let ansible = venv.as_ref().map(|venv| {
        let commands: Vec<String> = (0..SLEEPS.len()).map(command).collect();
        let playbook = write_ansible(&tools, &entries(&hosts, HOSTS), &commands);
        (0..ROUNDS)
            .map(|_| timed((ansible_command(venv, &tools, &playbook), String::new())).0)
            .collect::<Vec<_>>()
    });
    let fabric = venv.as_ref().map(|venv| {
        let script = write_fabric(&tools);
        (0..ROUNDS)
            .map(|_| timed(fabric_command(venv, &script, &hosts, "six")).0)
            .collect::<Vec<_>>()
    });

    println!();
    println!("6 steps × {HOSTS} hosts, median of {ROUNDS} runs (wall time of the whole command):");
    let knit = median(&knit_times);
    println!("  physical limit  {:>8.0} ms", ms(limit));
    println!(
        "  knit            {:>8.0} ms  {:.2}× the limit",
        ms(knit),
        ratio(knit, limit)
    );
    println!("    its last run, step by step (first start to last end, ms): {breakdown}");
    for (name, times) in [("ansible", &ansible), ("fabric", &fabric)] {
        match times {
            Some(times) => {
                let time = median(times);
                println!(
                    "  {name:<15} {:>8.0} ms  {:.2}× the limit, {:.2}× knit",
                    ms(time),
                    ratio(time, limit),
                    ratio(time, knit)
                );
            }
            None => println!("  {name:<15}  skipped: set KNIT_BENCH_VENV (.ci/bench does)"),
        }
    }

    println!();
    println!("per command on a warm connection ({WARM_COMMANDS} × `true`, one host):");
    let knit_warm = knit_per_command(&hosts).await;
    println!("  knit            {:>8.2} ms", ms(knit_warm));
    if let Some(venv) = &venv {
        let script = write_fabric(&tools);
        let (_, output) = timed(fabric_command(venv, &script, &hosts, "warm"));
        let fabric_warm: f64 = output
            .lines()
            .find_map(|line| line.strip_prefix("per-command-ms "))
            .and_then(|ms| ms.trim().parse().ok())
            .expect("fabric prints its per-command time");
        println!(
            "  fabric          {fabric_warm:>8.2} ms  {:.2}× knit",
            fabric_warm / ms(knit_warm)
        );
        let one = write_ansible(&tools, &entries(&hosts, 1), &["true".to_owned()]);
        let twenty = write_ansible(&tools, &entries(&hosts, 1), &vec!["true".to_owned(); 21]);
        let base = median(
            &(0..ROUNDS)
                .map(|_| timed((ansible_command(venv, &tools, &one), String::new())).0)
                .collect::<Vec<_>>(),
        );
        let more = median(
            &(0..ROUNDS)
                .map(|_| timed((ansible_command(venv, &tools, &twenty), String::new())).0)
                .collect::<Vec<_>>(),
        );
        let per_task = more.saturating_sub(base) / 20;
        println!(
            "  ansible         {:>8.2} ms  {:.2}× knit (per extra task)",
            ms(per_task),
            ratio(per_task, knit_warm)
        );
    }
}

/// How long each step of knit's last run took, from its first start to its last end.
async fn step_spans(data: &Path) -> String {
    let store = Store::open(&format!("sqlite:{}", data.join("knit.db").display()))
        .await
        .expect("knit's database");
    let last = store.runs(&RunQuery::default(), 1).await.expect("runs")[0].id;
    let events = store.run_events(last, 0, 100_000).await.expect("events");
    let mut spans = vec![(i64::MAX, 0_i64); SLEEPS.len()];
    for event in &events {
        match &event.body {
            RunEventBody::StepStarted { step, .. } => {
                spans[*step].0 = spans[*step].0.min(event.at_ms);
            }
            RunEventBody::StepFinished { step, .. } => {
                spans[*step].1 = spans[*step].1.max(event.at_ms);
            }
            _ => {}
        }
    }
    let first = events.first().map_or(0, |e| e.at_ms);
    let last = events.last().map_or(0, |e| e.at_ms);
    let steps: Vec<String> = spans
        .iter()
        .map(|(start, end)| (end - start).to_string())
        .collect();
    format!("{} (whole run {} ms)", steps.join(" + "), last - first)
}

fn write_cluster(hosts: &TestHosts) {
    let list: Vec<String> = hosts
        .hosts
        .iter()
        .map(|host| format!("\"{{HOST:{}}}\"", host.name))
        .collect();
    let tasks: String = (0..SLEEPS.len())
        .map(|step| format!("s{step} = [{:?}]\n", command(step)))
        .collect();
    let steps: Vec<String> = (0..SLEEPS.len())
        .map(|step| format!("\"app.s{step}\""))
        .collect();
    hosts.write_cluster(
        "bench",
        &format!(
            "parallel = {HOSTS}\n\n[machines.app]\nhosts = [{}]\n[machines.app.roles.app]\nkind = \"bench\"\n\n\
             [kinds.bench.tasks]\n{tasks}\n[scenarios.six]\nsteps = [{}]\n",
            list.join(", "),
            steps.join(", ")
        ),
    );
}

/// Σ over steps of the slowest host's own duration, from the `took sK µs` lines.
fn physical_limit(output: &str) -> Duration {
    let mut slowest = [0_u64; SLEEPS.len()];
    for line in output.lines() {
        let mut words = line
            .split_whitespace()
            .skip_while(|word| *word != "took")
            .skip(1);
        let (Some(step), Some(micros)) = (words.next(), words.next()) else {
            continue;
        };
        if let (Some(step), Ok(micros)) = (
            step.strip_prefix('s').and_then(|s| s.parse::<usize>().ok()),
            micros.parse::<u64>(),
        ) {
            slowest[step] = slowest[step].max(micros);
        }
    }
    Duration::from_micros(slowest.iter().sum())
}

async fn knit_per_command(hosts: &TestHosts) -> Duration {
    let identity = Identity::isolated(hosts.key.clone(), hosts.known_hosts.clone());
    let session = std::sync::Arc::new(
        ssh::connect(&hosts.hosts[0].target(), &identity)
            .await
            .expect("connect"),
    );
    let cancel = CancellationToken::new();
    let remote = Remote {
        script: "true",
        stdin: None,
        timeout: None,
    };
    // One to warm up, then the measured ones.
    exec::run(&session, remote.clone(), &cancel, |_, _| {}).await;
    let began = Instant::now();
    for _ in 0..WARM_COMMANDS {
        let exit = exec::run(&session, remote.clone(), &cancel, |_, _| {}).await;
        assert_eq!(exit, Exit::Code(0));
    }
    began.elapsed() / WARM_COMMANDS
}

/// `(name, user, port)` of the first `count` hosts.
fn entries(hosts: &TestHosts, count: usize) -> Vec<(String, String, u16)> {
    hosts
        .hosts
        .iter()
        .take(count)
        .map(|host| (host.name.clone(), host.user.clone(), host.port))
        .collect()
}

/// An inventory of `hosts` and a playbook of `commands` as tasks; returns the playbook.
fn write_ansible(dir: &Path, hosts: &[(String, String, u16)], commands: &[String]) -> PathBuf {
    let inventory: String = hosts
        .iter()
        .map(|(name, user, port)| {
            format!(
                "{name} ansible_host=127.0.0.1 ansible_port={port} ansible_user={user} \
                 ansible_python_interpreter=/usr/bin/python3\n"
            )
        })
        .collect();
    let tasks: String = commands
        .iter()
        .enumerate()
        .map(|(index, command)| {
            format!("    - name: step {index}\n      ansible.builtin.shell: {command:?}\n")
        })
        .collect();
    let playbook = dir.join(format!("playbook-{}-{}.yml", hosts.len(), commands.len()));
    std::fs::write(inventory_of(&playbook), format!("[all]\n{inventory}")).expect("inventory");
    std::fs::write(
        &playbook,
        format!("- hosts: all\n  gather_facts: false\n  tasks:\n{tasks}"),
    )
    .expect("playbook");
    playbook
}

fn inventory_of(playbook: &Path) -> PathBuf {
    playbook.with_extension("ini")
}

fn ansible_command(venv: &Path, dir: &Path, playbook: &Path) -> Command {
    let base = dir.parent().expect("the bench folder");
    let config = dir.join("ansible.cfg");
    std::fs::write(
        &config,
        format!(
            "[defaults]\nforks = {HOSTS}\nhost_key_checking = True\nprivate_key_file = {key}\n\
             [ssh_connection]\npipelining = True\ncontrol_path_dir = {dir}/cp\n\
             ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes\n",
            key = base.join("client_ed25519").display(),
            dir = dir.display(),
            known = base.join("known_hosts").display(),
        ),
    )
    .expect("ansible.cfg");
    let mut command = Command::new(venv.join("bin/ansible-playbook"));
    command
        .arg("-i")
        .arg(inventory_of(playbook))
        .arg(playbook)
        .env("ANSIBLE_CONFIG", &config)
        .env("ANSIBLE_LOCAL_TEMP", dir.join("tmp"))
        .env("ANSIBLE_HOME", dir.join("home"));
    command
}

const FABRIC: &str = r#"
import sys, time
import paramiko
from fabric import Connection, ThreadingGroup

mode, key, known = sys.argv[1], sys.argv[2], sys.argv[3]
hosts = sys.argv[4:]
commands = [line for line in sys.stdin.read().split("\n") if line]

def prepare(connection):
    connection.client.load_host_keys(known)
    connection.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return connection

kwargs = {"key_filename": key, "look_for_keys": False, "allow_agent": False}
if mode == "six":
    group = ThreadingGroup(*hosts, connect_kwargs=kwargs)
    for connection in group:
        prepare(connection)
    for command in commands:
        group.run(command, hide=True)
else:
    connection = prepare(Connection(hosts[0], connect_kwargs=kwargs))
    connection.run("true", hide=True)
    began = time.perf_counter()
    for _ in range(int(commands[0])):
        connection.run("true", hide=True)
    print("per-command-ms", (time.perf_counter() - began) * 1000 / int(commands[0]))
"#;

fn write_fabric(dir: &Path) -> PathBuf {
    let script = dir.join("fabric_bench.py");
    std::fs::write(&script, FABRIC).expect("fabric script");
    script
}

/// The Fabric script over `hosts` in `mode` (`six` or `warm`), and what it reads on stdin.
fn fabric_command(venv: &Path, script: &Path, hosts: &TestHosts, mode: &str) -> (Command, String) {
    let base = script
        .parent()
        .and_then(Path::parent)
        .expect("the bench folder");
    let mut python = Command::new(venv.join("bin/python"));
    python
        .arg(script)
        .arg(mode)
        .arg(base.join("client_ed25519"))
        .arg(base.join("known_hosts"))
        .args(
            hosts
                .hosts
                .iter()
                .map(|host| format!("{}@127.0.0.1:{}", host.user, host.port)),
        );
    let input = if mode == "six" {
        (0..SLEEPS.len())
            .map(command)
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        WARM_COMMANDS.to_string()
    };
    (python, input)
}

/// Runs `command` with `input` on stdin to its end, which must succeed: its wall time and its
/// standard output.
fn timed((mut command, input): (Command, String)) -> (Duration, String) {
    use std::io::Write;
    use std::process::Stdio;
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let began = Instant::now();
    let mut child = command.spawn().expect("the tool starts");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    let output = child.wait_with_output().expect("the tool ends");
    let elapsed = began.elapsed();
    assert!(
        output.status.success(),
        "{:?} failed:\n{}\n{}",
        command.get_program(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        elapsed,
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
