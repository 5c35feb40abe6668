//! `App`: the state every handler receives, cheap to clone.

use std::sync::Arc;

use knit_shared::SandboxInfo;

use crate::config::Settings;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub ec2: aws_sdk_ec2::Client,
    /// The region used when a request names none, resolved once at start-up.
    pub region: String,
    pub sandbox: Option<SandboxInfo>,
}
