//! What a run would change, asked before it starts (`GET /api/clusters/{name}/diff`): per host,
//! what its roles say (the app's commits and migrations) and each file the run would write,
//! against the file on the host now.

use serde::{Deserialize, Serialize};

/// The difference a run of `scenario` would make on each of its hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunDiff {
    /// The cluster's name.
    pub cluster: String,
    /// The scenario asked about.
    pub scenario: String,
    /// Each host of the run, in the run's order.
    pub hosts: Vec<HostDiff>,
}

/// What a run would change on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostDiff {
    /// The host's name in runs, `web-1`.
    pub host: String,
    /// What the host's roles say, `[app] commit: 1a2b3c4 -> 5d6e7f8 (v2)`, one line each.
    pub notes: Vec<String>,
    /// Each file the run would write, once, as it would be at the end.
    pub files: Vec<FileDiff>,
    /// Why the host could not be asked, when it could not.
    pub error: Option<String>,
}

/// One file a run would write on a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileDiff {
    /// The role whose task writes it.
    pub role: String,
    /// Where it is on the host.
    pub path: String,
    /// Whether it would change.
    pub change: FileChange,
    /// A unified diff from the host's file to the run's, secrets masked; empty when unchanged,
    /// or when the file is secret (a password's: only whether it changes is said).
    pub diff: String,
    /// The file's content is secret, so no diff is shown.
    pub secret: bool,
}

/// How a file would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileChange {
    /// The host has it as the run would write it.
    Unchanged,
    /// The host's differs (a run since, or a change by hand).
    Changed,
    /// The host has none yet.
    New,
}

impl FileDiff {
    /// How the file would change, as a person reads it: `changed (secret: not shown)`.
    pub fn change_said(&self) -> &'static str {
        match (self.change, self.secret) {
            (FileChange::Unchanged, _) => "unchanged",
            (FileChange::New, false) => "new",
            (FileChange::Changed, false) => "changed",
            (FileChange::New, true) => "new (secret: not shown)",
            (FileChange::Changed, true) => "changed (secret: not shown)",
        }
    }
}
