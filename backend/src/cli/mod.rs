//! The command line: one subcommand per file.

mod serve;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// knit: a web console for AWS EC2 that also deploys software to the machines it launches.
///
/// Run `knit serve --sandbox` to try it without an AWS account: knit starts a local EC2 emulator
/// and three local SSH hosts, and serves the console on http://127.0.0.1:8080/.
#[derive(Debug, Parser)]
#[command(name = "knit", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
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
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(settings) => serve::run(*settings).await,
    }
}
