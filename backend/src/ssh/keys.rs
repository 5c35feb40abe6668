//! SSH key pairs made and read with `ssh-keygen`.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use super::SshError;

/// An ed25519 key pair on disk: `private` and `private` + `.pub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPair {
    pub private: PathBuf,
    pub public: PathBuf,
}

impl KeyPair {
    /// The public key line (`ssh-ed25519 AAAA... comment`).
    pub async fn public_key(&self) -> Result<String, SshError> {
        let text = tokio::fs::read_to_string(&self.public)
            .await
            .map_err(|source| SshError::File {
                path: self.public.clone(),
                source,
            })?;
        Ok(text.trim().to_owned())
    }
}

/// Returns the key pair at `private`, generating it first if it does not exist yet.
pub async fn ensure_key_pair(private: &Path, comment: &str) -> Result<KeyPair, SshError> {
    let pair = KeyPair {
        private: private.to_owned(),
        public: private.with_extension("pub"),
    };
    if !(pair.private.exists() && pair.public.exists()) {
        let _ = tokio::fs::remove_file(&pair.private).await;
        let _ = tokio::fs::remove_file(&pair.public).await;
        ssh_keygen(&[
            "-q".as_ref(),
            "-t".as_ref(),
            "ed25519".as_ref(),
            "-N".as_ref(),
            "".as_ref(),
            "-C".as_ref(),
            comment.as_ref(),
            "-f".as_ref(),
            private.as_os_str(),
        ])
        .await?;
    }
    Ok(pair)
}

/// The SHA-256 fingerprint of a public key file, as `SHA256:...`.
pub async fn fingerprint(public: &Path) -> Result<String, SshError> {
    let listing = ssh_keygen(&["-l".as_ref(), "-f".as_ref(), public.as_os_str()]).await?;
    listing
        .split_whitespace()
        .nth(1)
        .map(str::to_owned)
        .ok_or_else(|| SshError::Tool {
            program: "ssh-keygen",
            stderr: format!("unexpected fingerprint listing {listing:?}"),
        })
}

async fn ssh_keygen(args: &[&std::ffi::OsStr]) -> Result<String, SshError> {
    let output = Command::new("ssh-keygen")
        .args(args)
        .output()
        .await
        .map_err(|source| SshError::Spawn {
            program: "ssh-keygen",
            source,
        })?;
    if !output.status.success() {
        return Err(SshError::Tool {
            program: "ssh-keygen",
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
