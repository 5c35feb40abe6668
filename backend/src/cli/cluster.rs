//! `knit clusters` and `knit <cluster> <scenario|install|hosts>`: Fabric's habits over knit's
//! engine and store. The exit code says whether every step succeeded on every host.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use aws_sdk_ec2::Client;
use knit_shared::RunStatus;

use super::cli_actor;
use super::cluster_args::ClusterArgs;
use super::printer::{Printer, print_releases};
use super::terminal::{ask_confirmation, exit_code};
use crate::clusters::{
    self, Command, Definition, Library, Plan, PlanError, RunRequest, file_action,
};
use crate::config;
use crate::ec2::{self, Ec2Target};
use crate::launch;
use crate::runs::{self, CancelOutcome, Mask, Runs, Started};
use crate::ssh::{KnownHosts, Pool, SshTarget};

pub async fn run(args: ClusterArgs) -> anyhow::Result<ExitCode> {
    if let Some(server) = &args.server {
        let token = super::remote::token(args.token.as_deref(), args.token_file.as_deref())?;
        return super::remote::run(&args, server, &token).await;
    }
    let library = Library::builtin();
    let loaded = clusters::load_dir(&args.clusters, library);
    let Some(name) = args.cluster.as_deref() else {
        bail!("name a cluster, or `clusters` to list them (see knit --help)");
    };
    if name == "clusters" {
        list_clusters(&loaded.definitions);
        for error in &loaded.errors {
            eprintln!("{error}");
        }
        return Ok(exit_code(loaded.errors.is_empty()));
    }
    let mut definitions = loaded.definitions;
    let Some(index) = definitions.iter().position(|d| d.name() == name) else {
        for error in &loaded.errors {
            eprintln!("{error}");
        }
        let known: Vec<&str> = definitions.iter().map(Definition::name).collect();
        let mistakes = match loaded.errors.len() {
            0 => String::new(),
            count => format!(" ({count} mistakes in its files, above)"),
        };
        bail!(
            "no valid cluster {name} in {}{mistakes}; clusters: {}",
            args.clusters.display(),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    };
    let definition = definitions.swap_remove(index);
    let Some(action) = args.action.as_deref() else {
        bail!("name a scenario of {name}, `install`, `launch`, `plan` or `hosts`");
    };
    if action == "plan" {
        let (client, target) = cluster_ec2(&definition, &args).await;
        let plan = launch::plan(&definition, &client, &target).await?;
        if plan.changes.is_empty() {
            println!("EC2 matches {name}: launch would change nothing");
        }
        for change in &plan.changes {
            println!("{}", change.describe());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if action == "releases" {
        let store = args.store.open().await?;
        print_releases(&store.live_outputs(name).await?);
        return Ok(ExitCode::SUCCESS);
    }
    if action == "freeze" || action == "unfreeze" {
        let runs = open_runs(&args).await?;
        let message = (action == "freeze").then(|| args.message.clone().unwrap_or_default());
        // The command line is the machine's own account, as for runs: it may.
        runs.set_freeze(
            std::slice::from_ref(&args.clusters),
            name,
            message.as_deref(),
            &cli_actor(),
            true,
        )
        .await?;
        match message {
            Some(message) => println!("{name} is frozen: {message}"),
            None => println!("{name} is not frozen"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if action == runs::LAUNCH {
        if !confirmed(&definition, &args, action) {
            return Ok(ExitCode::from(2));
        }
        let (client, target) = cluster_ec2(&definition, &args).await;
        let runs = open_runs(&args).await?;
        let cluster = definition.name().to_owned();
        let started = runs
            .start_launch(definition, client, target, &cli_actor())
            .await?;
        let status = follow(&runs, started, &cluster, action, args.verbose).await?;
        return Ok(exit_code(status == RunStatus::Ok));
    }
    let hosts = find_hosts(&definition, &args).await?;
    if action == "hosts" {
        list_hosts(&definition, &hosts);
        return Ok(ExitCode::SUCCESS);
    }
    let mut asked = RunRequest {
        hosts: args.hosts.clone(),
        roles: args.roles.clone(),
        params: args.set.iter().cloned().collect(),
        serial: (!args.serial.is_empty()).then(|| args.serial.clone()),
        max_fail_percentage: args.max_fail_percentage,
    };
    if let Some(retried) = args.retry {
        let runs = open_runs(&args).await?;
        asked = match runs.retry_request(retried, name, action, &asked).await {
            Ok(asked) => asked,
            Err(refused) => {
                eprintln!("knit: {refused}");
                return Ok(ExitCode::from(2));
            }
        };
    }
    let mut plan = match definition.plan(library, action, &hosts, &asked) {
        Ok(plan) => plan,
        // A value refused is the person's mistake, told apart from a failed run.
        Err(refused @ PlanError::Params(_)) => {
            eprintln!("knit: {refused}");
            return Ok(ExitCode::from(2));
        }
        Err(other) => return Err(other.into()),
    };
    if let Some(parallel) = args.parallel {
        plan.parallel = usize::from(parallel);
    }
    plan.retry_of = args.retry;
    plan.wait = args.wait;
    if args.dry_run {
        let mask = Mask::with_declared(definition.secret_values(library), plan.secret_params());
        print_plan(&plan, &mask);
        return Ok(ExitCode::SUCCESS);
    }
    if !confirmed(&definition, &args, action) {
        return Ok(ExitCode::from(2));
    }
    let status = run_plan(&definition, plan, &args).await?;
    Ok(exit_code(status == RunStatus::Ok))
}

/// Whether the person confirmed `action` on a cluster that wants its name typed: `--yes NAME`,
/// or the name typed at a terminal. Says what to do when not.
fn confirmed(definition: &Definition, args: &ClusterArgs, action: &str) -> bool {
    let name = definition.name();
    if !definition.file.cluster.needs_confirmation() {
        return true;
    }
    let typed = args
        .yes
        .clone()
        .or_else(|| ask_confirmation(name, action))
        .unwrap_or_default();
    if typed.trim() == name {
        return true;
    }
    eprintln!(
        "knit: {name} wants its name typed to run {action}: give --yes {name}, or type it at a terminal; nothing ran"
    );
    false
}

async fn find_hosts(
    definition: &Definition,
    args: &ClusterArgs,
) -> anyhow::Result<BTreeMap<String, Vec<SshTarget>>> {
    if !runs::needs_ec2(definition) {
        return Ok(definition.static_hosts());
    }
    let (client, target) = cluster_ec2(definition, args).await;
    Ok(runs::machine_hosts(definition, Some((&client, &target))).await?)
}

/// An EC2 client for the cluster's profile and region.
async fn cluster_ec2(definition: &Definition, args: &ClusterArgs) -> (Client, Ec2Target) {
    let cluster = &definition.file.cluster;
    let target = Ec2Target {
        profile: cluster.profile.clone(),
        region: cluster.region.clone(),
        endpoint: args.ec2_endpoint.clone(),
        ..Ec2Target::default()
    };
    let (client, _) = ec2::connect(&target).await;
    (client, target)
}

async fn open_runs(args: &ClusterArgs) -> anyhow::Result<Arc<Runs>> {
    let store = args.store.open().await?;
    let known_hosts = KnownHosts::new(config::known_hosts(&args.store.data_dir));
    // Connections outlive the command, so that the next command on these hosts starts warm.
    let pool = Pool::shared(&args.store.data_dir.join("ssh"));
    Ok(Runs::open_with(store, known_hosts, pool).await?)
}

async fn run_plan(
    definition: &Definition,
    plan: Plan,
    args: &ClusterArgs,
) -> anyhow::Result<RunStatus> {
    let runs = open_runs(args).await?;
    let scenario = plan.scenario.clone();
    let started = runs.start(definition, plan, &cli_actor()).await?;
    follow(&runs, started, definition.name(), &scenario, args.verbose).await
}

/// Prints a run's output until it ends (its scripts whole when `verbose`), cancelling it on
/// Ctrl-C; says how it ended.
async fn follow(
    runs: &Arc<Runs>,
    started: Started,
    cluster: &str,
    scenario: &str,
    verbose: bool,
) -> anyhow::Result<RunStatus> {
    let id = started.id;
    let shape = runs.store().run(id).await?.map(|(_, plan)| plan);
    let steps: Vec<String> = shape
        .iter()
        .flat_map(|plan| plan.steps.iter().map(|step| step.name.clone()))
        .collect();
    let hosts = shape.map_or(0, |plan| plan.hosts.len());
    eprintln!(
        "knit: run {id}: {scenario} on {cluster}, {} steps on {hosts} hosts",
        steps.len()
    );
    match runs.store().run(id).await?.map(|(run, _)| run.status) {
        Some(RunStatus::Queued) => {
            eprintln!("knit: run {id} waits in line: it starts when {cluster} is free");
        }
        Some(RunStatus::AwaitingApproval) => eprintln!(
            "knit: run {id} awaits an approver's yes (the run's page, or POST /api/runs/{id}/approve); it starts then"
        ),
        _ => {}
    }
    let interrupt = {
        let runs = Arc::clone(runs);
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "knit: cancelling run {id} (press Ctrl-C again to stop the finally steps)"
                );
                if let Ok(CancelOutcome::NotCancellable) = runs.cancel(id, &cli_actor()).await {
                    eprintln!("knit: a launch cannot be cancelled midway; it ends by itself");
                }
            }
        })
    };
    let began = Instant::now();
    let mut printer = Printer::new(steps, verbose);
    let mut live = started.live;
    loop {
        match live.recv().await {
            Ok(event) => printer.print(&event),
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                eprintln!("knit: {missed} lines not shown here (they are in the stored log)");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        }
    }
    let status = started.done.await.context("the run stopped abnormally")?;
    interrupt.abort();
    eprintln!(
        "knit: run {id} {} in {:.1} s ({})",
        status.as_str(),
        began.elapsed().as_secs_f64(),
        printer.summary()
    );
    // The notifications of its end go out before the command does.
    runs.notifier().settle().await;
    Ok(status)
}

/// Prints what each host would run, with secrets hidden as the run's log hides them.
fn print_plan(plan: &Plan, mask: &Mask) {
    for (index, step) in plan.steps.iter().enumerate() {
        let finally = if step.finally { " (finally)" } else { "" };
        let once = if step.once {
            " (once: on the first host of each role still in the run)"
        } else {
            ""
        };
        println!(
            "== [{}/{}] {}{finally}{once}",
            index + 1,
            plan.steps.len(),
            step.name
        );
        for job in &step.jobs {
            let host = &plan.hosts[job.host];
            println!("{} ({})", host.name, host.target);
            for command in &job.commands {
                match command {
                    Command::Run { role, script, .. } => {
                        println!("  [{role}] $ {}", mask.apply(script.clone()));
                    }
                    Command::Upload {
                        role,
                        from,
                        to,
                        content,
                        ..
                    } => println!(
                        "  [{role}] {} ({} bytes)",
                        file_action(from, &mask.apply(to.clone())),
                        content.len()
                    ),
                }
            }
        }
    }
}

fn list_clusters(definitions: &[Definition]) {
    for definition in definitions {
        let scenarios: Vec<&str> = definition
            .file
            .scenarios
            .keys()
            .map(String::as_str)
            .collect();
        println!(
            "{}\t{} machines\tscenarios: {}\t{}",
            definition.name(),
            definition.file.machines.len(),
            scenarios.join(", "),
            definition.path.display()
        );
    }
}

fn list_hosts(definition: &Definition, hosts: &BTreeMap<String, Vec<SshTarget>>) {
    for host in definition.named_hosts(hosts) {
        let roles: Vec<&str> = definition.file.machines[&host.machine]
            .get_ref()
            .roles
            .keys()
            .map(String::as_str)
            .collect();
        println!(
            "{}\t{}\troles: {}",
            host.name,
            host.target,
            roles.join(", ")
        );
    }
}
