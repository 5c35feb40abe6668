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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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

    /// The lines of the file that name `host` on `port`, as the file stands now.
    pub fn trusted_for(&self, host: &str, port: u16) -> Vec<String> {
        let pattern = host_pattern(host, port);
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter(|line| {
                line.split_whitespace()
                    .next()
                    .is_some_and(|names| names.split(',').any(|name| name == pattern))
            })
            .map(str::to_owned)
            .collect()
    }

    /// Trusts `public_key` (an `ssh-ed25519 AAAA...` line) for `pattern`, replacing any key that
    /// was trusted for exactly that pattern before. Writers take turns (two launches at once,
    /// or a server and a CLI, each keep their keys), and readers see the old file or the new
    /// one, never half of one.
    pub async fn trust(&self, pattern: &str, public_key: &str) -> Result<(), SshError> {
        let path = self.path.clone();
        let entry = format!("{pattern} {}", key_without_comment(public_key));
        let pattern = pattern.to_owned();
        let written = tokio::task::spawn_blocking(move || write_entry(&path, &pattern, &entry))
            .await
            .map_err(std::io::Error::other)
            .and_then(|written| written);
        written.map_err(|source| SshError::File {
            path: self.path.clone(),
            source,
        })
    }
}

/// Replaces `pattern`'s line of the file at `path` with `entry`, holding the file's lock.
fn write_entry(path: &Path, pattern: &str, entry: &str) -> std::io::Result<()> {
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))?;
    lock.lock()?;
    let current = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error),
    };
    let mut text: String = current
        .lines()
        .filter(|line| line.split_whitespace().next() != Some(pattern))
        .flat_map(|line| [line, "\n"])
        .collect();
    text.push_str(entry);
    text.push('\n');
    let fresh = path.with_extension("new");
    std::fs::write(&fresh, text)?;
    std::fs::rename(&fresh, path)
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hosts_trusted_at_the_same_time_are_all_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let known = KnownHosts::new(dir.path().join("known_hosts"));
        let writers: Vec<_> = (0..40)
            .map(|n| {
                let known = known.clone();
                tokio::spawn(async move {
                    let pattern = host_pattern("127.0.0.1", 3000 + n);
                    known.trust(&pattern, &format!("ssh-ed25519 AAAA{n}")).await
                })
            })
            .collect();
        for writer in writers {
            writer.await.expect("task").expect("written");
        }
        let text = std::fs::read_to_string(known.path()).expect("read");
        assert_eq!(text.lines().count(), 40, "{text}");
    }
}
