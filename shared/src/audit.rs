//! The audit log as the console reads it: who changed what, when, from where, and how it ended.

use serde::{Deserialize, Serialize};

/// One recorded change, or a refused one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who: an account, `<user> (cli)` on the command line, or `knit` itself.
    pub actor: String,
    /// The address the request came from; none on the command line.
    pub address: Option<String>,
    /// e.g. `instances.terminate`, `instances.launch`, `run.start`, `run.cancel`.
    pub action: String,
    /// What it was done to.
    pub target: String,
    /// How it ended.
    pub outcome: String,
}

/// `GET /api/audit`: the newest entries first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditList {
    /// At most the query's limit.
    pub events: Vec<AuditEntry>,
}

/// `GET /api/audit` query: each field narrows the list when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditQuery {
    /// Entries of this actor.
    pub actor: Option<String>,
    /// Entries whose action starts with this, e.g. `instances.` or `run.start`.
    pub action: Option<String>,
}
