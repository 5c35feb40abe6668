//! One page component per file.

mod audit;
mod clusters;
mod instances;
mod launch;
mod launched;
mod not_found;
mod run;
mod runs;

pub use audit::AuditPage;
pub use clusters::{ClusterPage, ClustersPage};
pub use instances::InstancesPage;
pub use launch::LaunchPage;
pub use launched::LaunchedPage;
pub use not_found::NotFoundPage;
pub use run::RunPage;
pub use runs::RunsPage;
