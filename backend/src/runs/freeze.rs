//! Freezing a cluster: while frozen, every run start is refused with the message, who froze it
//! and since when (`Runs::begin` checks). Admins and the cluster's operators may freeze and
//! unfreeze it; both are audited.

use std::path::PathBuf;

use super::Runs;
use super::start::{StartError, find};
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
    /// `actor` (an admin when `admin`), with the definitions of `dirs` saying who operates it.
    pub async fn set_freeze(
        &self,
        dirs: &[PathBuf],
        name: &str,
        message: Option<&str>,
        actor: &Actor,
        admin: bool,
    ) -> Result<(), FreezeError> {
        let definition = find(dirs, name).await?;
        let operators = &definition.file.cluster.operators;
        if !admin && !operators.contains(&actor.name) {
            return Err(FreezeError::NotAllowed {
                cluster: name.to_owned(),
                operators: operators.clone(),
            });
        }
        let (action, note) = match message.map(str::trim) {
            Some("") => return Err(FreezeError::NoMessage),
            Some(message) => {
                self.store.freeze(name, message, &actor.name).await?;
                ("cluster.freeze", message.to_owned())
            }
            None => {
                let was = self.store.unfreeze(name).await?;
                (
                    "cluster.unfreeze",
                    if was { "ok" } else { "was not frozen" }.to_owned(),
                )
            }
        };
        self.store
            .record(&actor.did(action, name.to_owned(), note))
            .await?;
        Ok(())
    }
}
