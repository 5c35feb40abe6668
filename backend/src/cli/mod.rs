//! The command line: one subcommand per file, and Fabric's `knit <cluster> <scenario>`.

mod cluster;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

pub use cluster::ClusterArgs;

/// knit: a web console for AWS EC2 that also deploys software to the machines it launches.
///
/// `knit serve --sandbox` tries it without an AWS account: knit starts a local EC2 emulator and
/// three local SSH hosts, and serves the console on http://127.0.0.1:8080/.
///
/// `knit [--clusters DIR] <cluster> <scenario>` runs a scenario of a cluster definition and exits
/// 0 when every step succeeded on every host; `knit clusters` lists the clusters, `knit <cluster>
/// hosts` a cluster's hosts, `knit <cluster> install` every role's install task.
#[derive(Debug, Parser)]
#[command(
    name = "knit",
    version,
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web console and its JSON API under /api.
    ///
    /// Every option can also be set in the environment as KNIT_<OPTION>, e.g. KNIT_LISTEN; a flag
    /// wins over the environment.
    Serve(Box<Settings>),
}

/// Runs one parsed command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Serve(settings)) => serve::run(*settings).await.map(|()| ExitCode::SUCCESS),
        None => cluster::run(cli.cluster).await,
    }
}
