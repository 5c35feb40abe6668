//! Opening SSH sessions with verified host keys.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use openssh::{KnownHosts as Checking, Session, SessionBuilder};

use super::{KnownHosts, SshError};
use crate::report::cause_chain;

/// Where to log in: `user@host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: String,
    pub host: String,
    pub port: u16,
}

impl fmt::Display for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}:{}", self.user, self.host, self.port)
    }
}

/// Who knit is on the other side and which host keys it trusts.
#[derive(Debug, Clone)]
pub struct Identity {
    pub private_key: PathBuf,
    pub known_hosts: KnownHosts,
}

/// Connects to `target`, refusing any host whose key is not in `identity.known_hosts`.
pub async fn connect(target: &SshTarget, identity: &Identity) -> Result<Session, SshError> {
    let mut builder = SessionBuilder::default();
    builder
        .user(target.user.clone())
        .port(target.port)
        .keyfile(&identity.private_key)
        .known_hosts_check(Checking::Strict)
        .user_known_hosts_file(identity.known_hosts.path())
        // The user's ~/.ssh/config must not change where or how knit connects.
        .config_file("/dev/null")
        .connect_timeout(Duration::from_secs(10))
        .server_alive_interval(Duration::from_secs(15));
    builder
        .connect_mux(&target.host)
        .await
        .map_err(|error| SshError::Connect {
            target: target.to_string(),
            detail: cause_chain(&error),
        })
}
