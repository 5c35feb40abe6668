//! Opening SSH connections with verified host keys.

use std::path::{Path, PathBuf};
use std::time::Duration;

use std::num::NonZeroUsize;

use openssh::{ControlPersist, KnownHosts as Checking, Session, SessionBuilder};

use super::config::{KeyExchange, config_file};
use super::starts::paced;
use super::{KnownHosts, SshError, SshTarget, host_pattern};
use crate::report::cause_chain;

/// How long a connection is kept after its last use when its identity does not say.
pub const KEPT_FOR: Duration = Duration::from_secs(300);

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
            idle: KEPT_FOR,
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
    // At a relay, ssh is told whose key to expect: that of the host the relay stands for.
    let (dial_host, dial_port, alias) = match target.dial {
        Some(relay) => (
            relay.ip().to_string(),
            relay.port(),
            Some(host_pattern(&target.host, target.port)),
        ),
        None => (target.host.clone(), target.port, None),
    };
    if let Some(seconds) = idle.and_then(|idle| NonZeroUsize::new(idle.as_secs() as usize)) {
        builder.control_persist(ControlPersist::IdleFor(seconds));
    }
    if let Some(folder) = control_folder {
        builder.control_directory(folder);
    }
    builder
        .port(dial_port)
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
    builder.config_file(config_file(identity, via, alias.as_deref())?);
    let server = match (&identity.bastion, via) {
        (Some(bastion), None) => {
            builder.jump_hosts([bastion]);
            bastion.clone()
        }
        // Through a connection that is up: the handshakes are the target's alone.
        _ => format!("{dial_host}:{dial_port}"),
    };
    paced(&server, || async {
        builder
            .connect_mux(&dial_host)
            .await
            .map_err(|error| SshError::Connect {
                target: target.to_string(),
                detail: cause_chain(&error),
            })
    })
    .await
}
