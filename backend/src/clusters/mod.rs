//! Cluster definitions: the TOML files of the user's repository that describe a cluster, its
//! machines and roles, its firewall and its scenarios. Parsing and checking only; no I/O but
//! reading the files, no SSH, no EC2.

mod check;
mod commands;
pub mod format;
mod kinds;
mod load;
mod params;
mod plan;
mod render;
pub mod schedule;
mod scram;
mod secret_sources;
mod secrets;
mod summary;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use commands::{Command, FoundHost, Host, MachineHosts, NO_FILE, file_action};
pub use kinds::Library;
pub use load::{Loaded, load_dir, parse};
pub use plan::{Drain, INSTALL, Job, Plan, PlanError, ROLLBACK, Step, run_stamp};
pub use render::RenderError;
pub use secret_sources::SecretError;

/// A definition file that parsed and passed every check.
#[derive(Debug)]
pub struct Definition {
    pub path: PathBuf,
    pub file: format::File,
}

impl Definition {
    pub fn name(&self) -> &str {
        self.file.cluster.name.get_ref()
    }
}

/// A mistake in a definition file, where it stands and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefinitionError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for DefinitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for DefinitionError {}

/// Every cluster of the definition folders `dirs`, with the mistakes of the files that could not
/// be read. A folder that does not exist yet is simply empty.
/// The clusters of `list` that name operators, and not `name`, each with its operators: only
/// they may run such a cluster, cancel its runs or act on its instances.
pub fn closed_to(list: &knit_shared::ClusterList, name: &str) -> BTreeMap<String, Vec<String>> {
    list.clusters
        .iter()
        .filter(|c| !c.operators.is_empty() && !c.operators.iter().any(|o| o == name))
        .map(|c| (c.name.clone(), c.operators.clone()))
        .collect()
}

/// The clusters of the definition files in `dirs`, with the mistakes of the files that fail.
pub fn list(dirs: &[PathBuf]) -> knit_shared::ClusterList {
    let library = Library::builtin();
    let mut clusters = Vec::new();
    let mut errors = Vec::new();
    for dir in dirs.iter().filter(|dir| dir.exists()) {
        let loaded = load_dir(dir, library);
        clusters.extend(loaded.definitions.iter().map(Definition::summary));
        errors.extend(loaded.errors.iter().map(ToString::to_string));
    }
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    knit_shared::ClusterList { clusters, errors }
}
