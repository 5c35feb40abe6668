//! Asking a host for its key over the network (`ssh-keyscan`): trust on first use, for hosts
//! whose key cannot be learnt another way.

use tokio::process::Command;

use super::SshError;

/// The ed25519 host key `host:port` presents, as `ssh-ed25519 AAAA...`.
pub async fn keyscan(host: &str, port: u16) -> Result<String, SshError> {
    let output = Command::new("ssh-keyscan")
        .args(["-T", "5", "-t", "ed25519", "-p", &port.to_string(), host])
        .output()
        .await
        .map_err(|source| SshError::Spawn {
            program: "ssh-keyscan",
            source,
        })?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let mut words = line.split_whitespace().skip(1);
            Some(format!("{} {}", words.next()?, words.next()?))
        })
        .ok_or_else(|| SshError::Tool {
            program: "ssh-keyscan",
            stderr: format!(
                "{host}:{port} sent no ed25519 host key: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        })
}
