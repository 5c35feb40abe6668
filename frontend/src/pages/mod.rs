//! One page component per file.

mod clusters;
mod instances;
mod launch;
mod not_found;
mod run;
mod runs;

pub use clusters::{ClusterPage, ClustersPage};
pub use instances::InstancesPage;
pub use launch::LaunchPage;
pub use not_found::NotFoundPage;
pub use run::RunPage;
pub use runs::RunsPage;
