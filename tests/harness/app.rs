//! The HTTP application in-process, for tests that drive the router without a socket.

use axum::Router;
use clap::Parser;
use knit::App;
use knit::cli::{Cli, Command};
use knit::ec2::{Ec2Hub, Ec2Target, connect};
use knit::inventory::Inventory;
use knit::store::Store;

use super::dummy_web_dir;

/// The application over a fresh database in `dir`, a console folder holding only index.html,
/// and EC2 as `target` says.
pub async fn app_with(dir: &std::path::Path, target: Ec2Target) -> Router {
    let web = dummy_web_dir(dir);
    let cli = Cli::parse_from(["knit", "serve", "--web-dir", web.to_str().expect("utf-8")]);
    let Command::Serve(settings) = cli.command;
    let store = Store::open(&format!("sqlite:{}", dir.join("knit.db").display()))
        .await
        .expect("open database");
    let (ec2, region) = connect(&target).await;
    knit::router(App {
        inventory: Inventory::new(Ec2Hub::new(target, ec2, region), settings.ec2_page_size),
        settings: std::sync::Arc::new(*settings),
        store,
        sandbox: None,
        cluster_dirs: Vec::new(),
        stopping: tokio_util::sync::CancellationToken::new(),
    })
}
