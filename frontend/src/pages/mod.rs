//! One page component per file.

mod account;
mod api_docs;
mod audit;
mod clusters;
mod instances;
mod login;
mod not_found;
mod run;
mod runs;
mod wizard;

pub use account::AccountPage;
pub use api_docs::ApiDocsPage;
pub use audit::AuditPage;
pub use clusters::{ClusterPage, ClustersPage};
pub use instances::InstancesPage;
pub use login::LoginPage;
pub use not_found::NotFoundPage;
pub use run::RunPage;
pub use runs::RunsPage;
pub use wizard::{LaunchedPage, WizardPage};
