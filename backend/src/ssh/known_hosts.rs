//! knit's own known_hosts file: the host keys it trusts, in OpenSSH's format.

use std::path::{Path, PathBuf};

use super::SshError;

/// How OpenSSH names a host in known_hosts: `host` on port 22, `[host]:port` elsewhere.
pub fn host_pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHosts {
    path: PathBuf,
}

impl KnownHosts {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Trusts `public_key` (an `ssh-ed25519 AAAA...` line) for `pattern`, replacing any key that
    /// was trusted for exactly that pattern before.
    pub async fn trust(&self, pattern: &str, public_key: &str) -> Result<(), SshError> {
        let file_error = |source| SshError::File {
            path: self.path.clone(),
            source,
        };
        let current = match tokio::fs::read_to_string(&self.path).await {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(error) => return Err(file_error(error)),
        };
        let mut lines: Vec<&str> = current
            .lines()
            .filter(|line| line.split_whitespace().next() != Some(pattern))
            .collect();
        let key = key_without_comment(public_key);
        let entry = format!("{pattern} {key}");
        lines.push(&entry);
        let mut text = lines.join("\n");
        text.push('\n');
        tokio::fs::write(&self.path, text).await.map_err(file_error)
    }
}

/// `type base64` of a public key line; the comment is not part of what is trusted.
fn key_without_comment(public_key: &str) -> String {
    public_key
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_port_is_the_bare_host() {
        assert_eq!(host_pattern("203.0.113.7", 22), "203.0.113.7");
        assert_eq!(host_pattern("127.0.0.1", 2201), "[127.0.0.1]:2201");
    }

    #[tokio::test]
    async fn trust_replaces_the_key_of_the_same_host_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let known = KnownHosts::new(dir.path().join("known_hosts"));
        known
            .trust("[127.0.0.1]:2201", "ssh-ed25519 AAAAold one")
            .await
            .expect("write");
        known
            .trust("[127.0.0.1]:2202", "ssh-ed25519 AAAAother")
            .await
            .expect("write");
        known
            .trust("[127.0.0.1]:2201", "ssh-ed25519 AAAAnew two")
            .await
            .expect("write");
        let text = std::fs::read_to_string(known.path()).expect("read");
        assert_eq!(
            text,
            "[127.0.0.1]:2202 ssh-ed25519 AAAAother\n[127.0.0.1]:2201 ssh-ed25519 AAAAnew\n"
        );
    }
}
