//! The `knit` command: parse the command line and hand it to one function per subcommand.

use std::process::ExitCode;

use clap::Parser;
use knit::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    knit::open_files::raise_limit();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("knit: error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            // `{:#}` keeps the whole cause chain on one line: what failed, then why.
            eprintln!("knit: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
