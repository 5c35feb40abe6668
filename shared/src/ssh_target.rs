//! Where knit logs in to a host: `user@host:port`, as a definition or EC2 names it. The
//! definitions read it, and the SSH layer connects to it.

use std::fmt;
use std::net::SocketAddr;

/// Where to log in: `user@host:port`; without a user, the SSH client's own choice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SshTarget {
    /// The account to log in as; the SSH client's own choice when none.
    pub user: Option<String>,
    /// A host name or address.
    pub host: String,
    /// The SSH port (22 unless given).
    pub port: u16,
    /// Where the connection is made when not at `host:port` (a sandbox machine's loopback
    /// relay); the host key checked is still that of `host:port`.
    pub dial: Option<SocketAddr>,
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
            dial: None,
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
