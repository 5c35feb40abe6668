//! knit's integration and end-to-end tests, compiled into one binary so aws-sdk-ec2 links once.
//!
//! They use the real parts: the `knit` binary, moto's EC2 server, Debian's sshd, and headless
//! Chromium. `harness` starts each of them and stops it again, also when a test fails.

mod harness;

mod account_page;
mod accounts;
mod builtin_kinds;
mod builtin_roles;
mod cluster_definitions;
mod cluster_isolation;
mod console;
mod demo_on_machines;
mod ec2_faults;
mod hostile_input;
mod instances_api;
mod instances_page;
mod kinds_on_machines;
mod launch;
mod launch_wizard;
mod machines;
mod manual;
mod metrics;
mod notifications;
#[cfg(feature = "embed-console")]
mod one_binary;
mod releases;
mod remote_cli;
mod rollouts;
mod router;
mod run_cli;
mod run_diff;
mod run_engine;
mod runs_api;
mod runs_page;
mod sandbox;
mod sandbox_machines;
mod sandbox_site;
mod scenario_params;
mod schedules;
mod secrets;
mod serve_config;
mod sign_in;
mod store;
mod tokens;
mod wizard_catalog;
mod zero_downtime;
