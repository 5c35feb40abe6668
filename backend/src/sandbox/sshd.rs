//! One local SSH host: Debian's `sshd` on a free loopback port, with its own host key.

use std::path::Path;
use std::time::Duration;

use knit_shared::SandboxHost;
use tokio::process::{Child, Command};

use super::account::running_as_root;
use super::{SandboxError, free_port, process};
use crate::ssh::{self, SshTarget};

/// Where Debian installs the server; other systems usually have it on PATH.
const SSHD: &str = "/usr/sbin/sshd";

#[derive(Debug)]
pub struct SshHost {
    pub name: String,
    pub user: String,
    pub port: u16,
    /// The host's public key line, as trusted in known_hosts.
    pub public_key: String,
    pub fingerprint: String,
    child: Child,
}

impl SshHost {
    /// Starts sshd for host `name` in `dir` (its host key, config and log live there), letting
    /// `user` log in with `authorized_key` only.
    pub async fn start(
        dir: &Path,
        name: &str,
        user: &str,
        authorized_key: &str,
    ) -> Result<Self, SandboxError> {
        Self::start_configured(dir, name, user, authorized_key, "").await
    }

    /// The same, with `extra` lines of sshd configuration (tests make hosts that behave as
    /// some real ones do, e.g. print a banner before every command).
    pub async fn start_configured(
        dir: &Path,
        name: &str,
        user: &str,
        authorized_key: &str,
        extra: &str,
    ) -> Result<Self, SandboxError> {
        let host_key = ssh::ensure_key_pair(&dir.join("ssh_host_ed25519_key"), name).await?;
        let public_key = host_key.public_key().await?;
        let fingerprint = ssh::fingerprint(&host_key.public).await?;
        let authorized_keys = dir.join("authorized_keys");
        let config = dir.join("sshd_config");
        let log = dir.join("sshd.log");
        let port = free_port().map_err(|error| SandboxError::Start {
            program: "sshd".to_owned(),
            detail: format!("no free port: {error}"),
        })?;
        let text = sshd_config(port, &host_key.private, &authorized_keys, user, name) + extra;
        for (path, contents) in [(&authorized_keys, authorized_key), (&config, text.as_str())] {
            tokio::fs::write(path, format!("{}\n", contents.trim_end()))
                .await
                .map_err(|source| SandboxError::Folder {
                    path: path.clone(),
                    source,
                })?;
        }
        if running_as_root() {
            // Debian's service unit creates sshd's privilege separation folder; we start sshd
            // ourselves, so we do it.
            let _ = tokio::fs::create_dir_all("/run/sshd").await;
        }

        let program = if Path::new(SSHD).exists() {
            SSHD
        } else {
            "sshd"
        };
        let mut command = Command::new(program);
        command.arg("-D").arg("-e").arg("-f").arg(&config);
        let mut child = process::spawn(command, "sshd", &log)?;
        process::wait_until_listening(
            &mut child,
            "sshd",
            port,
            Some(b"SSH-2.0-"),
            &log,
            Duration::from_secs(10),
        )
        .await?;
        Ok(Self {
            name: name.to_owned(),
            user: user.to_owned(),
            port,
            public_key,
            fingerprint,
            child,
        })
    }

    pub fn target(&self) -> SshTarget {
        SshTarget {
            user: Some(self.user.clone()),
            host: "127.0.0.1".to_owned(),
            port: self.port,
            dial: None,
        }
    }

    pub fn describe(&self) -> SandboxHost {
        SandboxHost {
            name: self.name.clone(),
            address: self.target().to_string(),
            host_key_fingerprint: self.fingerprint.clone(),
        }
    }

    pub async fn stop(self) {
        process::stop(self.child).await;
    }
}

/// A server that accepts one user with one key, on loopback only. `KNIT_SANDBOX_HOST` tells the
/// commands run there which host they are on, as every host shares this machine's file system.
fn sshd_config(
    port: u16,
    host_key: &Path,
    authorized_keys: &Path,
    user: &str,
    name: &str,
) -> String {
    // sshd reads authorized_keys as the logging-in user, who may not reach a root-owned data dir;
    // as root, let sshd itself read the file through a command instead.
    let keys = if running_as_root() {
        format!(
            "AuthorizedKeysFile none\nAuthorizedKeysCommand /bin/cat {}\nAuthorizedKeysCommandUser root",
            authorized_keys.display()
        )
    } else {
        format!("AuthorizedKeysFile {}", authorized_keys.display())
    };
    format!(
        "Port {port}
ListenAddress 127.0.0.1
HostKey {host_key}
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
StrictModes no
AllowUsers {user}
MaxStartups 100:30:200
SetEnv KNIT_SANDBOX_HOST={name}
{keys}
",
        host_key = host_key.display(),
    )
}
