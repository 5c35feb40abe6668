//! A six-step scenario on 20 loopback sshd hosts, cold (with each key exchange) and warm, then
//! 3 steps on 200 hosts and 1 on 500: knit's wall time against Ansible (forks = hosts,
//! pipelining, ControlPersist), Fabric 3 (ThreadingGroup) and pyinfra 3 running the same
//! commands on the same hosts, and against the physical limit: the sum over steps of the slowest command's own
//! duration. Also the per-command cost on a warm connection, and knit's peak memory and open
//! files at 200 and 500 hosts. Prints figures and ratios; it never passes or fails on time.
//!
//! Run: `.ci/bench` (it installs ansible-core, Fabric and pyinfra into a venv of their own).

#[path = "../tests/harness/mod.rs"]
#[expect(
    dead_code,
    unused_imports,
    reason = "the bench uses only part of the test harness"
)]
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use knit::ssh::exec::{self, Exit, Ran, Remote};
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
/// The most processes Ansible forks at once here.
const ANSIBLE_FORKS: usize = 200;
/// The key exchanges measured: ML-KEM (OpenSSH 9.9+), curve25519 (knit's choice where there is
/// no ML-KEM), sntrup761 (OpenSSH 9.x's default).
const EXCHANGES: [&str; 3] = [
    "mlkem768x25519-sha256",
    "curve25519-sha256",
    "sntrup761x25519-sha512@openssh.com",
];

/// Step `k`'s command: sleeps, then prints how long it took by its own clock, in µs.
fn command(step: usize) -> String {
    format!(
        "t0=$(date +%s%N); sleep {}; echo took s{step} $(( ($(date +%s%N) - t0) / 1000 ))",
        SLEEPS[step]
    )
}

#[tokio::main]
async fn main() {
    let venv = std::env::var_os("KNIT_BENCH_VENV").map(PathBuf::from);
    match std::env::var_os("KNIT_BENCH_BIN") {
        Some(bin) => println!("knit: {}", Path::new(&bin).display()),
        None => println!("knit: this build's (set KNIT_BENCH_BIN for a release build)"),
    }
    // `KNIT_BENCH_PARTS=fleet` (or `six`) runs only that part.
    let parts = std::env::var("KNIT_BENCH_PARTS").unwrap_or_default();
    let wanted = |part: &str| parts.is_empty() || parts.split(',').any(|p| p == part);
    if wanted("six") {
        six_steps(venv.as_deref()).await;
    }
    if wanted("fleet") {
        fleet(200, 3, venv.as_deref()).await;
        fleet(500, 1, venv.as_deref()).await;
    }
}

/// Six steps on 20 hosts: cold (no connection left from before) with each key exchange, warm
/// (the same command again at once), Ansible and Fabric; then the cost of one more command.
async fn six_steps(venv: Option<&Path>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let names: Vec<String> = (1..=HOSTS).map(|n| format!("host{n:02}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    println!("starting {HOSTS} sshd hosts on loopback…");
    let hosts = start_hosts(dir.path(), &name_refs).await;
    let known = ssh_exchanges();
    let mut cold = Vec::new();
    let mut limit = Duration::ZERO;
    for kex in EXCHANGES {
        if !known.iter().any(|name| name == kex) {
            cold.push((kex, None));
            continue;
        }
        write_cluster(
            &hosts,
            "bench",
            &format!("ssh_kex = {kex:?}\n"),
            HOSTS,
            SLEEPS.len(),
        );
        let times: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                forget_connections(dir.path());
                let run = timed(knit_run(&hosts, dir.path(), "bench"));
                limit = physical_limit(&run.output, SLEEPS.len());
                run.elapsed
            })
            .collect();
        cold.push((kex, Some(median(&times))));
    }
    // Warm: knit's own choice, run again at once on the connections the last run left.
    write_cluster(&hosts, "bench", "", HOSTS, SLEEPS.len());
    forget_connections(dir.path());
    timed(knit_run(&hosts, dir.path(), "bench"));
    let warm_runs: Vec<Timed> = (0..ROUNDS)
        .map(|_| timed(knit_run(&hosts, dir.path(), "bench")))
        .collect();
    let warm = median(&warm_runs.iter().map(|run| run.elapsed).collect::<Vec<_>>());
    let last = warm_runs.last().expect("a warm run");
    let (breakdown, added) =
        step_spans(dir.path(), &slowest_per_step(&last.output, SLEEPS.len())).await;

    let floor = local_floor(HOSTS, SLEEPS.len(), ROUNDS);
    let logins = median(
        &(0..ROUNDS)
            .map(|_| ssh_floor(&hosts, HOSTS))
            .collect::<Vec<_>>(),
    );

    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("tools dir");
    let commands: Vec<String> = (0..SLEEPS.len()).map(command).collect();
    let ansible = venv.map(|venv| {
        let playbook = write_ansible(&tools, &entries(&hosts, HOSTS), &commands);
        median(
            &(0..ROUNDS)
                .map(|_| {
                    timed((
                        ansible_command(venv, &tools, &playbook, HOSTS),
                        String::new(),
                    ))
                    .elapsed
                })
                .collect::<Vec<_>>(),
        )
    });
    let fabric = venv.map(|venv| {
        let script = write_fabric(&tools);
        median(
            &(0..ROUNDS)
                .map(|_| timed(fabric_command(venv, &script, &hosts, "steps", &commands)).elapsed)
                .collect::<Vec<_>>(),
        )
    });
    let pyinfra = venv.map(|venv| {
        let files = write_pyinfra(&tools, &entries(&hosts, HOSTS), &commands);
        median(
            &(0..ROUNDS)
                .map(|_| timed((pyinfra_command(venv, &files, HOSTS), String::new())).elapsed)
                .collect::<Vec<_>>(),
        )
    });

    println!();
    println!("6 steps × {HOSTS} hosts, median of {ROUNDS} runs (wall time of the whole command):");
    println!("  physical limit          {:>8.0} ms", ms(limit));
    let fast = cold
        .iter()
        .find_map(|(_, time)| *time)
        .expect("a key exchange measured");
    for (kex, time) in &cold {
        match time {
            Some(time) => println!(
                "  knit cold, {:<12} {:>8.0} ms  {:.2}× the limit",
                short(kex),
                ms(*time),
                ratio(*time, limit)
            ),
            None => println!(
                "  knit cold, {:<12}      n/a  (this OpenSSH does not offer it)",
                short(kex)
            ),
        }
    }
    println!(
        "  knit warm               {:>8.0} ms  {:.2}× the limit",
        ms(warm),
        ratio(warm, limit)
    );
    println!("    its last run, step by step (first start to last end, ms): {breakdown}");
    println!(
        "    a step adds {:.1} ms beyond its slowest command (mean of the last run's steps); knit's own CPU {:.2} ms per host and step",
        ms(added),
        ms(last.cpu) / (HOSTS * SLEEPS.len()) as f64
    );
    println!(
        "  no SSH: {HOSTS} × `sh -c` {:>7.0} ms  {:.2}× its limit; a step adds {:.1} ms beyond its slowest command (the same commands as local processes: this machine's floor)",
        ms(floor.wall),
        ratio(floor.wall, floor.limit),
        ms(floor.added)
    );
    println!(
        "  no run: {HOSTS} × `ssh host true` {:>5.0} ms  OpenSSH's own logins (curve25519), at once: what a cold run pays before its first step",
        ms(logins)
    );
    for (name, time) in [
        ("ansible", ansible),
        ("fabric", fabric),
        ("pyinfra", pyinfra),
    ] {
        match time {
            Some(time) => println!(
                "  {name:<23} {:>8.0} ms  {:.2}× the limit; {:.2}× knit cold, {:.2}× knit warm",
                ms(time),
                ratio(time, limit),
                ratio(time, fast),
                ratio(time, warm)
            ),
            None => println!("  {name:<23}  skipped: set KNIT_BENCH_VENV (.ci/bench does)"),
        }
    }

    println!();
    println!("per command on a warm connection ({WARM_COMMANDS} × `true`, one host):");
    let knit_warm = knit_per_command(&hosts).await;
    println!("  knit            {:>8.2} ms", ms(knit_warm));
    if let Some(venv) = venv {
        let script = write_fabric(&tools);
        let run = timed(fabric_command(
            venv,
            &script,
            &hosts,
            "warm",
            &[WARM_COMMANDS.to_string()],
        ));
        let fabric_warm: f64 = run
            .output
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
                .map(|_| timed((ansible_command(venv, &tools, &one, 1), String::new())).elapsed)
                .collect::<Vec<_>>(),
        );
        let more = median(
            &(0..ROUNDS)
                .map(|_| timed((ansible_command(venv, &tools, &twenty, 1), String::new())).elapsed)
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

/// `count` hosts × `steps` steps, cold, once each: knit (with its peak memory and open files,
/// then warm once more), Fabric, pyinfra and Ansible (forks = hosts), against the physical limit.
async fn fleet(count: usize, steps: usize, venv: Option<&Path>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let names: Vec<String> = (1..=count).map(|n| format!("host{n:03}")).collect();
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    println!();
    println!("starting {count} sshd hosts on loopback…");
    let hosts = start_hosts(dir.path(), &name_refs).await;
    write_cluster(&hosts, "bench", "", count, steps);
    let knit = timed(knit_run(&hosts, dir.path(), "bench"));
    let limit = physical_limit(&knit.output, steps);
    // Again at once, on the connections the first run left: the engine's own cost at this size.
    let warm = timed(knit_run(&hosts, dir.path(), "bench"));
    let warm_limit = physical_limit(&warm.output, steps);
    let (_, warm_added) = step_spans(dir.path(), &slowest_per_step(&warm.output, steps)).await;
    let floor = local_floor(count, steps, 1);
    let logins = ssh_floor(&hosts, count);
    let tools = dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("tools dir");
    let commands: Vec<String> = (0..steps).map(command).collect();
    let fabric = venv.map(|venv| {
        let script = write_fabric(&tools);
        timed(fabric_command(venv, &script, &hosts, "steps", &commands)).elapsed
    });
    let pyinfra = venv.map(|venv| {
        let files = write_pyinfra(&tools, &entries(&hosts, count), &commands);
        timed((pyinfra_command(venv, &files, count), String::new())).elapsed
    });
    // Ansible forks a process per host at once; past 200 they would fill this machine's memory.
    let forks = count.min(ANSIBLE_FORKS);
    let ansible = venv.map(|venv| {
        let playbook = write_ansible(&tools, &entries(&hosts, count), &commands);
        timed((
            ansible_command(venv, &tools, &playbook, forks),
            String::new(),
        ))
        .elapsed
    });
    println!("{steps} step(s) × {count} hosts, cold, one run each:");
    println!("  physical limit  {:>8.0} ms", ms(limit));
    println!(
        "  knit            {:>8.0} ms  {:.2}× the limit; peak {:.0} MiB resident ({:.1} MiB per 100 hosts), {} open files",
        ms(knit.elapsed),
        ratio(knit.elapsed, limit),
        knit.peak_rss_kib as f64 / 1024.0,
        knit.peak_rss_kib as f64 / 1024.0 / (count as f64 / 100.0),
        knit.peak_files
    );
    println!(
        "  knit warm       {:>8.0} ms  {:.2}× its limit ({:.0} ms); a step adds {:.0} ms beyond its slowest command ({:.2} ms per host); knit's own CPU {:.2} ms per host and step",
        ms(warm.elapsed),
        ratio(warm.elapsed, warm_limit),
        ms(warm_limit),
        ms(warm_added),
        ms(warm_added) / count as f64,
        ms(warm.cpu) / (count * steps) as f64
    );
    println!(
        "  no SSH          {:>8.0} ms  {:.2}× its limit; a step adds {:.0} ms beyond its slowest command ({:.2} ms per host): {count} × `sh -c` at once per step, this machine's floor",
        ms(floor.wall),
        ratio(floor.wall, floor.limit),
        ms(floor.added),
        ms(floor.added) / count as f64
    );
    println!(
        "  no run          {:>8.0} ms  {count} × `ssh host true` at once (curve25519): OpenSSH's own logins, which a cold run pays",
        ms(logins)
    );
    let ansible_name = format!("ansible, {forks} forks");
    for (name, time) in [
        ("fabric", fabric),
        ("pyinfra", pyinfra),
        (ansible_name.as_str(), ansible),
    ] {
        match time {
            Some(time) => println!(
                "  {name:<20} {:>8.0} ms  {:.2}× the limit, {:.2}× knit",
                ms(time),
                ratio(time, limit),
                ratio(time, knit.elapsed)
            ),
            None => println!("  {name:<15}  skipped: set KNIT_BENCH_VENV (.ci/bench does)"),
        }
    }
}

/// `knit <cluster> <scenario>` over `hosts`, with `data` as its data folder.
fn knit_run(hosts: &TestHosts, data: &Path, cluster: &str) -> (Command, String) {
    let mut knit = knit_command();
    knit.arg("--clusters")
        .arg(&hosts.clusters)
        .arg("--data-dir")
        .arg(data)
        .args([cluster, "steps"]);
    (knit, String::new())
}

/// Ends the connections earlier commands left running in `data`, so that the next is cold.
fn forget_connections(data: &Path) {
    let sockets = data.join("ssh");
    let pattern = sockets.display().to_string();
    let _ = Command::new("pkill").args(["-f", &pattern]).status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Command::new("pgrep")
        .args(["-f", &pattern])
        .output()
        .is_ok_and(|found| found.status.success())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&sockets);
}

/// The key exchanges the local ssh offers.
fn ssh_exchanges() -> Vec<String> {
    let output = Command::new("ssh")
        .args(["-Q", "kex"])
        .output()
        .expect("ssh runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

fn short(kex: &str) -> &str {
    kex.split(['-', '@']).next().unwrap_or(kex)
}

/// How long each step of knit's last run took, from its first start to its last end, and the
/// mean of what each added beyond its `slowest` command.
async fn step_spans(data: &Path, slowest: &[Duration]) -> (String, Duration) {
    let store = Store::open(&format!("sqlite:{}", data.join("knit.db").display()))
        .await
        .expect("knit's database");
    let last = store.runs(&RunQuery::default(), 1).await.expect("runs")[0].id;
    let events = store.run_events(last, 0, 100_000).await.expect("events");
    let mut spans = vec![(i64::MAX, 0_i64); slowest.len()];
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
    let lengths: Vec<Duration> = spans
        .iter()
        .map(|(start, end)| Duration::from_millis((end - start).max(0) as u64))
        .collect();
    let added = lengths
        .iter()
        .zip(slowest)
        .map(|(span, slowest)| span.saturating_sub(*slowest))
        .sum::<Duration>()
        / slowest.len().max(1) as u32;
    let steps: Vec<String> = lengths
        .iter()
        .map(|span| span.as_millis().to_string())
        .collect();
    (
        format!("{} (whole run {} ms)", steps.join(" + "), last - first),
        added,
    )
}

/// What OpenSSH alone takes to log in to the first `count` hosts at once and run `true` there
/// (curve25519, a process per host): the handshakes any cold run pays before its first step.
fn ssh_floor(hosts: &TestHosts, count: usize) -> Duration {
    let start = Instant::now();
    let children: Vec<Child> = hosts.hosts[..count]
        .iter()
        .map(|host| {
            let target = host.target();
            let mut ssh = Command::new("ssh");
            ssh.args(["-F", "/dev/null", "-o", "BatchMode=yes"])
                .args(["-o", "StrictHostKeyChecking=yes"])
                .args(["-o", "KexAlgorithms=curve25519-sha256"])
                .arg("-o")
                .arg(format!(
                    "UserKnownHostsFile={}",
                    hosts.known_hosts.path().display()
                ))
                .arg("-i")
                .arg(&hosts.key)
                .arg("-p")
                .arg(target.port.to_string());
            if let Some(user) = &target.user {
                ssh.arg("-l").arg(user);
            }
            ssh.arg(&target.host)
                .arg("true")
                .stdin(Stdio::null())
                .spawn()
                .expect("ssh starts")
        })
        .collect();
    for mut child in children {
        let status = child.wait().expect("ssh ends");
        assert!(status.success(), "ssh failed: {status:?}");
    }
    start.elapsed()
}

/// What this machine makes of the commands themselves: `steps` steps as local processes,
/// `count` at once per step and no SSH, their process starts queued on the same two cores as on
/// the loopback hosts.
struct Floor {
    wall: Duration,
    /// Σ over steps of the slowest command's own duration.
    limit: Duration,
    /// The mean a step adds beyond its slowest command.
    added: Duration,
}

/// The [`Floor`] of `rounds` runs: the one of median wall time.
fn local_floor(count: usize, steps: usize, rounds: usize) -> Floor {
    let mut runs: Vec<Floor> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            let mut limit = Duration::ZERO;
            let mut added = Duration::ZERO;
            for step in 0..steps {
                let began = Instant::now();
                let children: Vec<Child> = (0..count)
                    .map(|_| {
                        Command::new("sh")
                            .arg("-c")
                            .arg(command(step))
                            .stdout(Stdio::piped())
                            .spawn()
                            .expect("sh starts")
                    })
                    .collect();
                let output: String = children
                    .into_iter()
                    .map(|child| {
                        let output = child.wait_with_output().expect("sh ends");
                        String::from_utf8_lossy(&output.stdout).into_owned()
                    })
                    .collect();
                let slowest = slowest_per_step(&output, steps)[step];
                limit += slowest;
                added += began.elapsed().saturating_sub(slowest);
            }
            Floor {
                wall: start.elapsed(),
                limit,
                added: added / steps as u32,
            }
        })
        .collect();
    runs.sort_by_key(|run| run.wall);
    runs.swap_remove(runs.len() / 2)
}

/// Cluster `name`: the first `count` hosts, scenario `steps` of the first `steps` commands, and
/// `settings` in its `[cluster]`.
fn write_cluster(hosts: &TestHosts, name: &str, settings: &str, count: usize, steps: usize) {
    let list: Vec<String> = hosts
        .hosts
        .iter()
        .take(count)
        .map(|host| format!("\"{{HOST:{}}}\"", host.name))
        .collect();
    let tasks: String = (0..steps)
        .map(|step| format!("s{step} = [{:?}]\n", command(step)))
        .collect();
    let names: Vec<String> = (0..steps).map(|step| format!("\"app.s{step}\"")).collect();
    hosts.write_cluster(
        name,
        &format!(
            "parallel = {count}\n{settings}\n[machines.app]\nhosts = [{}]\n[machines.app.roles.app]\nkind = \"bench\"\n\n\
             [kinds.bench.tasks]\n{tasks}\n[scenarios.steps]\nsteps = [{}]\n",
            list.join(", "),
            names.join(", ")
        ),
    );
}

/// Σ over steps of the slowest host's own duration, from the `took sK µs` lines.
fn physical_limit(output: &str, steps: usize) -> Duration {
    slowest_per_step(output, steps).iter().sum()
}

/// Each step's slowest host's own duration, from the `took sK µs` lines.
fn slowest_per_step(output: &str, steps: usize) -> Vec<Duration> {
    let mut slowest = vec![0_u64; steps];
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
        ) && step < steps
        {
            slowest[step] = slowest[step].max(micros);
        }
    }
    slowest.into_iter().map(Duration::from_micros).collect()
}

/// What one more command costs on a warm connection, run as the engine runs the commands of
/// one host's step: each in a shell opened as the one before was taken.
async fn knit_per_command(hosts: &TestHosts) -> Duration {
    let identity = Identity::isolated(hosts.key.clone(), hosts.known_hosts.clone());
    let session = Arc::new(
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
    let open = |session: &Arc<openssh::Session>| {
        let session = Arc::clone(session);
        tokio::spawn(async move { exec::shell(&session).await.expect("a shell") })
    };
    // One to warm up, then the measured ones.
    exec::run(&session, remote.clone(), None, &cancel, || {}, |_, _| {}).await;
    let mut waiting = open(&session).await.expect("a shell");
    let began = Instant::now();
    for _ in 0..WARM_COMMANDS {
        let next = open(&session);
        let ran = waiting.run(remote.clone(), &cancel, || {}, |_, _| {}).await;
        assert_eq!(ran, Ran::Ended(Exit::Code(0)));
        waiting = next.await.expect("a shell");
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

/// A pyinfra inventory of `hosts` (host keys checked against the bench's known_hosts) and a
/// deploy of `commands` as shell operations; returns both files.
fn write_pyinfra(
    dir: &Path,
    hosts: &[(String, String, u16)],
    commands: &[String],
) -> (PathBuf, PathBuf) {
    let base = dir.parent().expect("the bench folder");
    let entries: String = hosts
        .iter()
        .map(|(name, user, port)| {
            format!(
                "    ({name:?}, {{\"ssh_hostname\": \"127.0.0.1\", \"ssh_port\": {port}, \
                 \"ssh_user\": {user:?}, \"ssh_key\": {key:?}, \"ssh_known_hosts_file\": {known:?}, \
                 \"ssh_strict_host_key_checking\": \"yes\"}}),\n",
                key = base.join("client_ed25519").display().to_string(),
                known = base.join("known_hosts").display().to_string(),
            )
        })
        .collect();
    let operations: String = commands
        .iter()
        .enumerate()
        .map(|(index, command)| {
            format!("server.shell(name=\"step {index}\", commands=[{command:?}])\n")
        })
        .collect();
    let tag = format!("{}-{}", hosts.len(), commands.len());
    let inventory = dir.join(format!("pyinfra_inventory_{tag}.py"));
    let deploy = dir.join(format!("pyinfra_deploy_{tag}.py"));
    std::fs::write(&inventory, format!("hosts = [\n{entries}]\n")).expect("pyinfra inventory");
    std::fs::write(
        &deploy,
        format!("from pyinfra.operations import server\n\n{operations}"),
    )
    .expect("pyinfra deploy");
    (inventory, deploy)
}

/// pyinfra 3 over `files` (inventory, deploy), `parallel` hosts at once.
fn pyinfra_command(venv: &Path, files: &(PathBuf, PathBuf), parallel: usize) -> Command {
    let mut pyinfra = Command::new(venv.join("bin/pyinfra"));
    pyinfra
        .arg(&files.0)
        .arg(&files.1)
        .args(["--yes", "--parallel", &parallel.to_string()]);
    pyinfra
}

fn inventory_of(playbook: &Path) -> PathBuf {
    playbook.with_extension("ini")
}

fn ansible_command(venv: &Path, dir: &Path, playbook: &Path, forks: usize) -> Command {
    let base = dir.parent().expect("the bench folder");
    let config = dir.join("ansible.cfg");
    std::fs::write(
        &config,
        format!(
            "[defaults]\nforks = {forks}\nhost_key_checking = True\nprivate_key_file = {key}\n\
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
if mode == "steps":
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

/// The Fabric script over `hosts` in `mode` (`steps`: run each of `input`'s commands on every
/// host; `warm`: `input[0]` commands on one host), and what it reads on stdin.
fn fabric_command(
    venv: &Path,
    script: &Path,
    hosts: &TestHosts,
    mode: &str,
    input: &[String],
) -> (Command, String) {
    let base = script
        .parent()
        .and_then(Path::parent)
        .expect("the bench folder");
    let count = if mode == "steps" {
        hosts.hosts.len()
    } else {
        1
    };
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
                .take(count)
                .map(|host| format!("{}@127.0.0.1:{}", host.user, host.port)),
        );
    (python, input.join("\n"))
}

/// What a command did: its wall time and standard output, and the most memory (resident, KiB)
/// and open files it held.
struct Timed {
    elapsed: Duration,
    output: String,
    peak_rss_kib: u64,
    peak_files: usize,
    /// CPU time of the process and the children it waited for (for knit: its SSH handshakes),
    /// as last seen in /proc before it ended, to the clock tick.
    cpu: Duration,
}

/// Runs `command` with `input` on stdin to its end, which must succeed: its wall time and its
/// standard output.
fn timed((mut command, input): (Command, String)) -> Timed {
    use std::io::{Read, Write};
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let began = Instant::now();
    let mut child = command.spawn().expect("the tool starts");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input.as_bytes());
    }
    // Read its output on threads while watching its memory and files until it ends.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let (mut peak_rss_kib, mut peak_files, mut cpu) = (0, 0, Duration::ZERO);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        let proc = PathBuf::from(format!("/proc/{}", child.id()));
        let rss = std::fs::read_to_string(proc.join("status"))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix("VmRSS:"))
                    .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0);
        let files = std::fs::read_dir(proc.join("fd")).map_or(0, Iterator::count);
        peak_rss_kib = peak_rss_kib.max(rss);
        peak_files = peak_files.max(files);
        cpu = cpu_time(&proc).unwrap_or(cpu);
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = began.elapsed();
    let (output, errors) = (out.join().expect("stdout"), err.join().expect("stderr"));
    assert!(
        status.success(),
        "{:?} failed:\n{output}\n{errors}",
        command.get_program(),
    );
    Timed {
        elapsed,
        output,
        peak_rss_kib,
        peak_files,
        cpu,
    }
}

/// utime + stime + cutime + cstime of the process at `proc`.
fn cpu_time(proc: &Path) -> Option<Duration> {
    let stat = std::fs::read_to_string(proc.join("stat")).ok()?;
    // Fields after the command's name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..15)?
        .iter()
        .map(|field| field.parse::<u64>().ok())
        .sum::<Option<u64>>()?;
    // Linux counts them in USER_HZ: 100 a second.
    Some(Duration::from_millis(ticks * 10))
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
