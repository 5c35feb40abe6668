//! Opening SSH sessions with verified host keys.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::num::NonZeroUsize;

use openssh::{ControlPersist, KnownHosts as Checking, Session, SessionBuilder};

use super::config::{KeyExchange, config_file};
use super::starts::paced;
use super::{KnownHosts, SshError};
use crate::report::cause_chain;

/// Where to log in: `user@host:port`; without a user, the SSH client's own choice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: u16,
}

impl SshTarget {
    /// Reads `user@host:port`, `user@host` or `host` (port 22); the definition checks have
    /// refused anything else already.
    pub fn parse(address: &str) -> Self {
        let (user, rest) = match address.rsplit_once('@') {
            Some((user, rest)) => (Some(user.to_owned()), rest),
            None => (None, address),
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, port.parse().unwrap_or(22)),
            _ => (rest, 22),
        };
        Self {
            user,
            host: host.to_owned(),
            port,
        }
    }
}

impl fmt::Display for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Who knit is on the other side, which host keys it trusts, and the way there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The private key to offer; without one, the agent's and ~/.ssh's.
    pub private_key: Option<PathBuf>,
    pub known_hosts: KnownHosts,
    /// Read ~/.ssh/config (users rely on it for keys and ProxyJump); the sandbox does not.
    pub ssh_config: bool,
    /// `user@host` to jump through.
    pub bastion: Option<String>,
    /// Which key exchange to offer first.
    pub kex: KeyExchange,
    /// How long the connection is kept after its last use; zero: not kept.
    pub idle: Duration,
}

impl Identity {
    /// Only this key and these host keys; nothing of the user's SSH set-up.
    pub fn isolated(private_key: PathBuf, known_hosts: KnownHosts) -> Self {
        Self {
            private_key: Some(private_key),
            known_hosts,
            ssh_config: false,
            bastion: None,
            kex: KeyExchange::default(),
            idle: super::pool::KEPT_FOR,
        }
    }
}

/// Connects to `target`, refusing any host whose key is not in `identity.known_hosts`.
pub async fn connect(target: &SshTarget, identity: &Identity) -> Result<Session, SshError> {
    connect_for(target, identity, None, None, None).await
}

/// The same; with `idle`, the connection's master process ends by itself once no command has
/// used it for that long (a kept connection that nobody closes does not outlive its use); with
/// `control_folder`, its control socket is made there rather than in the temporary folder; with
/// `via`, it goes through the connection of that control socket (its bastion's) instead of
/// logging in to the bastion again.
pub async fn connect_for(
    target: &SshTarget,
    identity: &Identity,
    idle: Option<Duration>,
    control_folder: Option<PathBuf>,
    via: Option<&Path>,
) -> Result<Session, SshError> {
    let mut builder = SessionBuilder::default();
    if let Some(seconds) = idle.and_then(|idle| NonZeroUsize::new(idle.as_secs() as usize)) {
        builder.control_persist(ControlPersist::IdleFor(seconds));
    }
    if let Some(folder) = control_folder {
        builder.control_directory(folder);
    }
    builder
        .port(target.port)
        // Whatever ~/.ssh/config says, knit checks host keys strictly against its own file.
        .known_hosts_check(Checking::Strict)
        .user_known_hosts_file(identity.known_hosts.path())
        .connect_timeout(Duration::from_secs(10))
        .server_alive_interval(Duration::from_secs(15));
    if let Some(user) = &target.user {
        builder.user(user.clone());
    }
    if let Some(key) = &identity.private_key {
        builder.keyfile(key);
    }
    builder.config_file(config_file(identity, via)?);
    let server = match (&identity.bastion, via) {
        (Some(bastion), None) => {
            builder.jump_hosts([bastion]);
            bastion.clone()
        }
        // Through a connection that is up: the handshakes are the target's alone.
        _ => format!("{}:{}", target.host, target.port),
    };
    paced(&server, || async {
        builder
            .connect_mux(&target.host)
            .await
            .map_err(|error| SshError::Connect {
                target: target.to_string(),
                detail: cause_chain(&error),
            })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::SshTarget;

    #[test]
    fn addresses_read_with_and_without_user_and_port() {
        let target = SshTarget::parse("deploy@203.0.113.7:2201");
        assert_eq!(target.user.as_deref(), Some("deploy"));
        assert_eq!((target.host.as_str(), target.port), ("203.0.113.7", 2201));
        assert_eq!(target.to_string(), "deploy@203.0.113.7:2201");
        let bare = SshTarget::parse("db.internal");
        assert_eq!((bare.user, bare.port), (None, 22));
        assert_eq!(bare.host, "db.internal");
    }
}
