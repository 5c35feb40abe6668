//! Opening SSH sessions with verified host keys.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use openssh::{KnownHosts as Checking, Session, SessionBuilder};

use super::{KnownHosts, SshError};
use crate::report::cause_chain;

/// Where to log in: `user@host:port`; without a user, the SSH client's own choice.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone)]
pub struct Identity {
    /// The private key to offer; without one, the agent's and ~/.ssh's.
    pub private_key: Option<PathBuf>,
    pub known_hosts: KnownHosts,
    /// Read ~/.ssh/config (users rely on it for keys and ProxyJump); the sandbox does not.
    pub ssh_config: bool,
    /// `user@host` to jump through.
    pub bastion: Option<String>,
}

impl Identity {
    /// Only this key and these host keys; nothing of the user's SSH set-up.
    pub fn isolated(private_key: PathBuf, known_hosts: KnownHosts) -> Self {
        Self {
            private_key: Some(private_key),
            known_hosts,
            ssh_config: false,
            bastion: None,
        }
    }
}

/// Connects to `target`, refusing any host whose key is not in `identity.known_hosts`.
pub async fn connect(target: &SshTarget, identity: &Identity) -> Result<Session, SshError> {
    let mut builder = SessionBuilder::default();
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
    builder.config_file(config_file(identity)?);
    if let Some(bastion) = &identity.bastion {
        builder.jump_hosts([bastion]);
    }
    builder
        .connect_mux(&target.host)
        .await
        .map_err(|error| SshError::Connect {
            target: target.to_string(),
            detail: cause_chain(&error),
        })
}

/// What knit's own ssh configuration says: only knit's known_hosts holds trusted keys (the
/// system-wide file, which any admin of the machine may fill, is not read). With the user's
/// set-up, ~/.ssh/config and the system's configuration follow: they apply too, but for a
/// setting both name, ssh takes the first value, knit's.
fn config_text(with_users_setup: bool) -> &'static str {
    if with_users_setup {
        "GlobalKnownHostsFile /dev/null\nInclude ~/.ssh/config\nInclude /etc/ssh/ssh_config\n"
    } else {
        "GlobalKnownHostsFile /dev/null\n"
    }
}

/// knit's ssh configuration for `identity`, written beside its known_hosts when missing.
fn config_file(identity: &Identity) -> Result<PathBuf, SshError> {
    let (name, text) = if identity.ssh_config {
        ("ssh_config.with_user", config_text(true))
    } else {
        ("ssh_config", config_text(false))
    };
    let path = identity.known_hosts.path().with_file_name(name);
    if std::fs::read_to_string(&path).ok().as_deref() == Some(text) {
        return Ok(path);
    }
    let file_error = |source| SshError::File {
        path: path.clone(),
        source,
    };
    // Written whole, then renamed: a connection made meanwhile reads the old file or the new.
    let fresh = path.with_extension(format!("new-{}", std::process::id()));
    std::fs::write(&fresh, text).map_err(file_error)?;
    std::fs::rename(&fresh, &path).map_err(file_error)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_knits_known_hosts_are_trusted_as_ssh_reads_its_configuration() {
        let dir = tempfile::tempdir().expect("temp dir");
        for with_users_setup in [false, true] {
            let identity = Identity {
                ssh_config: with_users_setup,
                ..Identity::isolated(
                    dir.path().join("key"),
                    KnownHosts::new(dir.path().join("known_hosts")),
                )
            };
            let config = config_file(&identity).expect("written");
            let seen = std::process::Command::new("ssh")
                .arg("-G")
                .arg("-F")
                .arg(&config)
                .arg("host.example")
                .output()
                .expect("ssh runs (openssh-client)");
            let settings = String::from_utf8_lossy(&seen.stdout);
            assert!(
                settings
                    .lines()
                    .any(|line| line == "globalknownhostsfile /dev/null"),
                "{settings}"
            );
        }
    }

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
