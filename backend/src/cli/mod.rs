//! The command line: one subcommand per file, and Fabric's `knit <cluster> <scenario>`.

mod cluster;
mod cluster_args;
mod listings;
mod printer;
mod remote;
mod runs;
mod serve;
mod terminal;
mod token;
mod user;

use std::process::ExitCode;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{self, Settings};
use crate::store::{Actor, Store};

pub use cluster_args::ClusterArgs;

/// knit: a web console for AWS EC2 that also deploys software to the machines it launches.
///
/// `knit serve --sandbox` tries it without an AWS account: knit starts a local EC2 emulator and
/// three local SSH hosts, and serves the console on http://127.0.0.1:8080/.
///
/// `knit user add NAME --role admin` makes the first account of a real installation (the
/// password is read from standard input or asked for); `knit token create --user NAME` makes an
/// API token for scripts.
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
    /// Manage accounts: add, list, role, password, remove.
    User(user::UserArgs),
    /// Manage API tokens for scripts: create, list, revoke.
    Token(token::TokenArgs),
    /// Answer a run awaiting approval: approve, reject.
    Runs(runs::RunsArgs),
}

/// The database a command works on: the server's, by its data folder or URL.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Folder of knit's state, as given to `knit serve`.
    #[arg(long, env = "KNIT_DATA_DIR", default_value = "knit-data")]
    pub data_dir: PathBuf,

    /// Database URL [default: sqlite:<data-dir>/knit.db], as given to `knit serve`.
    #[arg(long, env = "KNIT_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl StoreArgs {
    pub async fn open(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!(
                "cannot create the data folder {}; choose another with --data-dir",
                self.data_dir.display()
            )
        })?;
        let url = config::database_url(&self.data_dir, self.database_url.as_deref());
        Ok(Store::open(&url).await?)
    }
}

/// Who acts on the command line, for the audit log: the login name, marked as the CLI.
pub fn cli_actor() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned());
    Actor::named(&format!("{user} (cli)"))
}

/// Runs one parsed command line to completion.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Serve(settings)) => serve::run(*settings).await.map(|()| ExitCode::SUCCESS),
        Some(Command::User(args)) => user::run(args).await.map(|()| ExitCode::SUCCESS),
        Some(Command::Token(args)) => token::run(args).await.map(|()| ExitCode::SUCCESS),
        Some(Command::Runs(args)) => runs::run(args).await.map(|()| ExitCode::SUCCESS),
        None => cluster::run(cli.cluster).await,
    }
}
