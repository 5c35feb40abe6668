//! HTTP handlers, one file per resource. Each extracts, calls one domain function, maps the result.

pub mod audit;
pub mod catalog;
pub mod clusters;
mod extract;
pub mod health;
pub mod instances;
pub mod metrics;
pub mod regions;
pub mod runs;
pub mod schedules;
pub mod security_groups;
pub mod session;
pub mod tokens;
pub mod users;
pub mod wizard;
