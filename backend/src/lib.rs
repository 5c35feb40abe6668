//! knit: a self-hosted web console for AWS EC2 that deploys software to the machines it launches.
//!
//! `router` builds the whole HTTP application (tests drive it without a socket); `serve` runs it.
//! The README's "Architecture" section says how the modules depend on each other.

pub mod accounts;
pub mod app;
pub mod authentication;
pub mod body_limit;
pub mod cli;
pub mod clusters;
pub mod config;
pub mod ec2;
pub mod error;
pub mod handlers;
pub mod inventory;
pub mod launch;
pub mod metrics;
pub mod notify;
pub mod open_files;
pub mod openapi;
pub mod reach;
pub mod report;
pub mod router;
pub mod runs;
pub mod sandbox;
pub mod security_headers;
pub mod server;
pub mod ssh;
pub mod store;
pub mod web;
pub mod wizard;

pub use app::App;
pub use router::router;
pub use server::serve;
