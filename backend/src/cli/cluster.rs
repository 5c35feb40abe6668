//! `knit clusters` and `knit <cluster> <action>` where the definitions are: Fabric's habits
//! over knit's engine and store. The exit code says whether every step succeeded on every host
//! (2: the request was refused and nothing ran).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use knit_shared::{ClusterSummary, RunQuery, RunStatus, StartRun};

use super::cli_actor;
use super::cluster_args::{Action, ClusterArgs};
use super::listings::{
    print_clusters, print_diff, print_hosts, print_launch_changes, print_releases, print_runs,
};
use super::printer::Printer;
use super::terminal::{ask_confirmation, exit_code};
use crate::clusters::{Command, Library, Plan, PlanError, file_action};
use crate::config;
use crate::ec2::{Ec2Hub, Ec2Target};
use crate::runs::{
    self, CancelOutcome, Fleet, Mask, RetryError, Runs, Standing, StartError, Started,
};
use crate::ssh::{KnownHosts, Pool};

pub async fn run(args: ClusterArgs) -> anyhow::Result<ExitCode> {
    if let Some(server) = &args.server {
        let token = super::remote::token(args.token.as_deref(), args.token_file.as_deref())?;
        return super::remote::run(&args, server, &token).await;
    }
    let Some(name) = args.cluster.as_deref() else {
        bail!("name a cluster, or `clusters` to list them (see knit --help)");
    };
    let fleet = fleet(&args);
    let list = fleet.list().await;
    if name == "clusters" {
        print_clusters(&list);
        return Ok(exit_code(list.errors.is_empty()));
    }
    let Some(cluster) = list.clusters.iter().find(|c| c.name == name) else {
        for error in &list.errors {
            eprintln!("{error}");
        }
        let known: Vec<&str> = list.clusters.iter().map(|c| c.name.as_str()).collect();
        let mistakes = match list.errors.len() {
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
    let Some(word) = args.action.as_deref() else {
        bail!("name a scenario of {name}, `install`, `launch`, `plan` or `hosts`");
    };
    match Action::parse(word) {
        Action::Changes => print_launch_changes(name, &fleet.launch_changes(name).await?),
        Action::Hosts => print_hosts(&fleet.cluster_hosts(name).await?),
        Action::Releases => {
            let store = args.store.open().await?;
            print_releases(&store.live_outputs(name).await?);
        }
        Action::Runs => {
            let store = args.store.open().await?;
            let query = RunQuery {
                cluster: Some(name.to_owned()),
                ..RunQuery::default()
            };
            print_runs(&store.runs(&query, 50).await?);
        }
        action @ (Action::Freeze | Action::Unfreeze) => {
            let runs = open_runs(&args, fleet).await?;
            let message =
                (action == Action::Freeze).then(|| args.message.clone().unwrap_or_default());
            // The command line is the machine's own account, as for runs: it may.
            runs.set_freeze(name, message.as_deref(), &cli_actor(), true)
                .await?;
            match message {
                Some(message) => println!("{name} is frozen: {message}"),
                None => println!("{name} is not frozen"),
            }
        }
        Action::Start(scenario) => {
            let runs = open_runs(&args, fleet).await?;
            return start(&runs, &args, cluster, &scenario).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts `scenario` (or `install`, or `launch`) as the arguments ask and prints it until it
/// ends; with `--dry-run`, prints what it would do instead.
async fn start(
    runs: &Arc<Runs>,
    args: &ClusterArgs,
    cluster: &ClusterSummary,
    scenario: &str,
) -> anyhow::Result<ExitCode> {
    let mut request = args.start_run(&cluster.name, scenario);
    if args.dry_run {
        return dry_run(runs, &request).await;
    }
    if args.diff {
        // The command line is the machine's own account: not held to `operators`.
        return match runs.diff_request(&request, None).await {
            Ok(diff) => {
                print_diff(&diff);
                Ok(ExitCode::SUCCESS)
            }
            Err(refused) if is_refusal(&refused) => {
                eprintln!("knit: {refused}");
                Ok(ExitCode::from(2))
            }
            Err(other) => Err(other.into()),
        };
    }
    if cluster.confirm && request.confirm.is_none() {
        request.confirm = ask_confirmation(&cluster.name, scenario);
    }
    let started = match runs
        .start_request(&request, &cli_actor(), Standing::Machine)
        .await
    {
        Ok(started) => started,
        Err(StartError::Unconfirmed(name)) => {
            eprintln!(
                "knit: {name} wants its name typed to run {scenario}: give --yes {name}, or type it at a terminal; nothing ran"
            );
            return Ok(ExitCode::from(2));
        }
        Err(refused) if is_refusal(&refused) => {
            eprintln!("knit: {refused}");
            return Ok(ExitCode::from(2));
        }
        Err(other) => return Err(other.into()),
    };
    let status = follow(runs, started, &cluster.name, scenario, args.verbose).await?;
    Ok(exit_code(status == RunStatus::Ok))
}

/// `--dry-run`: the commands each host would run (for `launch`, what it would change).
async fn dry_run(runs: &Runs, request: &StartRun) -> anyhow::Result<ExitCode> {
    let name = &request.cluster;
    if request.scenario == runs::LAUNCH {
        print_launch_changes(name, &runs.fleet().launch_changes(name).await?);
        return Ok(ExitCode::SUCCESS);
    }
    let (definition, plan) = match runs.plan_request(request).await {
        Ok(planned) => planned,
        Err(refused) if is_refusal(&refused) => {
            eprintln!("knit: {refused}");
            return Ok(ExitCode::from(2));
        }
        Err(other) => return Err(other.into()),
    };
    let secrets = definition.secret_values(Library::builtin());
    print_plan(&plan, &Mask::with_declared(secrets, plan.secret_params()));
    Ok(ExitCode::SUCCESS)
}

/// Whether `error` refuses what the person asked for (a value, a retry, a missing
/// confirmation), told apart from a run that could not be tried.
fn is_refusal(error: &StartError) -> bool {
    match error {
        StartError::Plan(PlanError::Params(_))
        | StartError::Unconfirmed(_)
        | StartError::RolloutLocked { .. } => true,
        StartError::Retry(retry) => !matches!(retry, RetryError::Store(_)),
        _ => false,
    }
}

/// The clusters of `--clusters`, and EC2 as `--ec2-endpoint` says (reached only for a cluster
/// with launched machines).
fn fleet(args: &ClusterArgs) -> Fleet {
    let ec2 = Ec2Target {
        endpoint: args.ec2_endpoint.clone(),
        ..Ec2Target::default()
    };
    Fleet::new(
        vec![args.clusters.clone()],
        Arc::new(Ec2Hub::lazy(ec2)),
        config::secrets_dir(&args.store.data_dir),
    )
}

async fn open_runs(args: &ClusterArgs, fleet: Fleet) -> anyhow::Result<Arc<Runs>> {
    let store = args.store.open().await?;
    let known_hosts = KnownHosts::new(config::known_hosts(&args.store.data_dir));
    // Connections outlive the command, so that the next command on these hosts starts warm.
    let pool = Pool::shared(&args.store.data_dir.join("ssh"));
    Ok(Runs::open_with(store, fleet, known_hosts, pool).await?)
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
