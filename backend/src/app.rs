//! `App`: the state every handler receives, cheap to clone.

use std::sync::Arc;

use knit_shared::SandboxInfo;
use tokio_util::sync::CancellationToken;

use crate::accounts::Accounts;
use crate::config::Settings;
use crate::inventory::Inventory;
use crate::runs::Runs;
use crate::store::Store;
use crate::wizard::Wizard;

#[derive(Debug, Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub accounts: Arc<Accounts>,
    pub inventory: Arc<Inventory>,
    pub wizard: Arc<Wizard>,
    pub runs: Arc<Runs>,
    pub sandbox: Option<SandboxInfo>,
    /// Cancelled when the server begins to stop, so endless responses (live feeds) end too.
    pub stopping: CancellationToken,
}
