//! Freezing a cluster: while frozen, every run start is refused with the message, who froze it
//! and since when (`Runs::begin` checks). Admins and the cluster's operators may freeze and
//! unfreeze it; both are audited, and so is a refusal.

use super::Runs;
use super::start::StartError;
use crate::store::{Actor, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum FreezeError {
    #[error(transparent)]
    Cluster(#[from] StartError),
    #[error("only admins{} may freeze or unfreeze cluster {cluster}", operators_of(.operators))]
    NotAllowed {
        cluster: String,
        operators: Vec<String>,
    },
    #[error("say why the cluster is frozen: the message is shown to everyone whose run it refuses")]
    NoMessage,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn operators_of(operators: &[String]) -> String {
    match operators {
        [] => String::new(),
        names => format!(" and its operators ({})", names.join(", ")),
    }
}

impl Runs {
    /// Freezes cluster `name` with `message`, or unfreezes it when `message` is `None`, for
    /// `actor` (an admin when `admin`), the cluster's definition saying who operates it.
    pub async fn set_freeze(
        &self,
        name: &str,
        message: Option<&str>,
        actor: &Actor,
        admin: bool,
    ) -> Result<(), FreezeError> {
        let (action, message) = match message.map(str::trim) {
            Some(message) => ("cluster.freeze", Some(message)),
            None => ("cluster.unfreeze", None),
        };
        let definition = self.fleet.definition(name).await?;
        let operators = &definition.file.cluster.operators;
        let refused = if !admin && !operators.contains(&actor.name) {
            Some(FreezeError::NotAllowed {
                cluster: name.to_owned(),
                operators: operators.clone(),
            })
        } else if message == Some("") {
            Some(FreezeError::NoMessage)
        } else {
            None
        };
        let note = match (refused.as_ref(), message) {
            (Some(refused), _) => format!("refused: {refused}"),
            (None, Some(message)) => {
                self.store.freeze(name, message, &actor.name).await?;
                message.to_owned()
            }
            (None, None) => match self.store.unfreeze(name).await? {
                true => "ok".to_owned(),
                false => "was not frozen".to_owned(),
            },
        };
        self.store
            .record(&actor.did(action, name.to_owned(), note))
            .await?;
        refused.map_or(Ok(()), Err)
    }
}
