//! `knit runs approve|reject N --as NAME`: an approver's answer to a run awaiting approval,
//! from the command line of the machine that holds knit's database.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, ValueEnum};

use super::StoreArgs;
use crate::ec2::{Ec2Hub, Ec2Target};
use crate::runs::{Fleet, Runs};
use crate::ssh::KnownHosts;
use crate::store::Actor;

/// `approve N --as NAME` lets run N start; `reject N --as NAME` ends it without running. NAME
/// must be one of the cluster's approvers, and not the person who asked for the run.
#[derive(Debug, Args)]
pub struct RunsArgs {
    action: RunsAction,

    /// The run, as the console and `knit <cluster> <scenario>` number it.
    id: i64,

    /// The approver's account.
    #[arg(long = "as", value_name = "NAME")]
    approver: String,

    /// Why, shown with the run.
    #[arg(long, default_value = "")]
    comment: String,

    /// Folder of cluster definition files (*.toml), which name the approvers.
    #[arg(long, env = "KNIT_CLUSTERS", default_value = "clusters")]
    clusters: PathBuf,

    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RunsAction {
    Approve,
    Reject,
}

pub async fn run(args: RunsArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    let known_hosts = KnownHosts::new(crate::config::known_hosts(&args.store.data_dir));
    // Approving reads who may from the definitions, and needs no EC2.
    let ec2 = Arc::new(Ec2Hub::lazy(Ec2Target::default()));
    let secrets = crate::config::secrets_dir(&args.store.data_dir);
    let fleet = Fleet::new(vec![args.clusters.clone()], ec2, secrets);
    let runs = Runs::open(store, fleet, known_hosts).await?;
    let actor = Actor {
        name: args.approver.clone(),
        address: Some("command line".to_owned()),
    };
    let approved = args.action == RunsAction::Approve;
    runs.decide(args.id, &actor, approved, &args.comment)
        .await?;
    let word = if approved { "approved" } else { "rejected" };
    println!("run {} {word} by {}", args.id, args.approver);
    Ok(())
}
