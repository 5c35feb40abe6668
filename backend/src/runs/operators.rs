//! Who may act on a cluster that names its operators: them, and nobody else.

use crate::clusters::Definition;
use crate::store::Actor;

/// Refused: the cluster names its operators, and the person is not one of them.
#[derive(Debug, thiserror::Error)]
#[error(
    "only {operators} may {what} cluster {cluster}; ask an admin to add {name} to its operators"
)]
pub struct NotAnOperator {
    what: &'static str,
    cluster: String,
    operators: String,
    name: String,
}

/// What an operator check is about: what the person may not do (e.g. `run`), and the audit
/// entry's action and target when refused.
pub(super) struct Attempt<'a> {
    pub what: &'static str,
    pub action: &'a str,
    pub target: String,
}

/// Refuses `actor` unless `definition` names no operators or names them; a refusal is audited.
pub(super) async fn require_operator(
    store: &crate::store::Store,
    definition: &Definition,
    actor: &Actor,
    attempt: Attempt<'_>,
) -> Result<(), OperatorCheck> {
    let operators = &definition.file.cluster.operators;
    if operators.is_empty() || operators.contains(&actor.name) {
        return Ok(());
    }
    let refused = NotAnOperator {
        what: attempt.what,
        cluster: definition.name().to_owned(),
        operators: operators.join(", "),
        name: actor.name.clone(),
    };
    let note = "refused: not an operator".to_owned();
    store
        .record(&actor.did(attempt.action, attempt.target, note))
        .await?;
    Err(OperatorCheck::Refused(refused))
}

/// Why `require_operator` said no.
#[derive(Debug, thiserror::Error)]
pub(super) enum OperatorCheck {
    #[error(transparent)]
    Refused(NotAnOperator),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}
