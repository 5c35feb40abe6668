//! Everything that talks to EC2: building clients from the AWS default chain, and the calls.
//! Plain functions over an SDK client; no HTTP, no caching (see `inventory` for that).

mod actions;
pub mod catalog;
mod client;
mod cluster_hosts;
pub mod cluster_state;
mod console;
mod convert;
mod counted;
mod error;
mod hub;
pub mod images;
pub mod instance_profiles;
mod instances;
pub mod prices;
mod profiles;
pub mod progress;
pub mod quick_start;
mod regions;
pub mod rules;
pub mod run_instances;
mod security_groups;

pub use actions::act;
pub use client::{Ec2Target, connect, iam, probe, ssm};
pub use cluster_hosts::{CLUSTER_TAG, MACHINE_TAG, MachineOf, connect_address, machine_instances};
pub use console::{console_output, system_log};
pub use convert::timestamp;
pub use error::{Ec2Error, Refusal};
pub use hub::{Ec2Hub, Scope, ScopeError};
pub use instances::describe_all;
pub use regions::{describe_regions, describe_zones};
pub use security_groups::describe_security_groups;
