//! The ssh client configuration knit connects with: which host keys count, and which key
//! exchange is offered first.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::{Identity, SshError};

/// Key exchanges that are fast and secure, best first: the hybrid ML-KEM exchange (OpenSSH 9.9
/// and later), then curve25519. OpenSSH 9.x's default, sntrup761x25519, costs several times
/// more CPU per connection, which a fan-out to many hosts pays once per host.
const FAST: [&str; 3] = [
    "mlkem768x25519-sha256",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
];
/// The post-quantum exchanges, best first.
const POST_QUANTUM: [&str; 3] = [
    "mlkem768x25519-sha256",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
];

/// Which key exchange a cluster wants (`ssh_kex` in `[cluster]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub enum KeyExchange {
    /// `FAST` first (those the local client has), then the client's own defaults.
    #[default]
    Fast,
    /// Only post-quantum exchanges, whatever they cost.
    PostQuantum,
    /// Exactly these, in this order (OpenSSH's names, comma-separated).
    Listed(String),
}

impl KeyExchange {
    /// The choice a cluster's `ssh_kex` names: `fast` (or none), `post-quantum`, or a list.
    pub fn named(setting: Option<&str>) -> Self {
        match setting {
            None | Some("fast") => Self::Fast,
            Some("post-quantum") => Self::PostQuantum,
            Some(list) => Self::Listed(list.to_owned()),
        }
    }

    /// The `KexAlgorithms` line, if any: a `^` list goes before the client's defaults.
    fn line(&self) -> Option<String> {
        let offered = |names: &[&str]| -> Vec<String> {
            names
                .iter()
                .filter(|name| client_exchanges().iter().any(|known| known == *name))
                .map(|name| (*name).to_owned())
                .collect()
        };
        match self {
            Self::Fast => {
                let fast = offered(&FAST);
                (!fast.is_empty()).then(|| format!("KexAlgorithms ^{}", fast.join(",")))
            }
            Self::PostQuantum => Some(format!(
                "KexAlgorithms {}",
                offered(&POST_QUANTUM).join(",")
            )),
            Self::Listed(list) => Some(format!("KexAlgorithms {list}")),
        }
    }
}

/// The key exchanges the local ssh client knows (`ssh -Q kex`), asked once.
fn client_exchanges() -> &'static [String] {
    static KNOWN: OnceLock<Vec<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        std::process::Command::new("ssh")
            .args(["-Q", "kex"])
            .output()
            .map(|output| {
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    })
}

/// What knit's ssh configuration says. Only knit's known_hosts holds trusted keys (the
/// system-wide file, which any admin of the machine may fill, is not read). With the user's
/// set-up, ~/.ssh/config and the system's configuration follow, and then the key exchange: ssh
/// takes the first value it reads for a setting, so knit's known_hosts rule wins over theirs,
/// and a `KexAlgorithms` the user set wins over knit's choice.
fn config_text(identity: &Identity) -> String {
    let mut text = "GlobalKnownHostsFile /dev/null\n".to_owned();
    if identity.ssh_config {
        // `Match all` ends whatever Host block the included files ended in.
        text.push_str("Include ~/.ssh/config\nInclude /etc/ssh/ssh_config\nMatch all\n");
    }
    if let Some(line) = identity.kex.line() {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// knit's ssh configuration for `identity` (through the connection of control socket `via`,
/// when given; checking the host key of `host_key_alias`, when given), written beside its known_hosts when missing; each text has a file of its own,
/// named by its digest.
pub fn config_file(
    identity: &Identity,
    via: Option<&Path>,
    host_key_alias: Option<&str>,
) -> Result<PathBuf, SshError> {
    let mut text = String::new();
    if let Some(alias) = host_key_alias {
        text.push_str(&format!("HostKeyAlias {alias}\n"));
    }
    if let Some(socket) = via {
        // First, so that it wins over a ProxyJump of the user's configuration. `-W` asks the
        // bastion's running connection for a channel to the host; the name after it is unused.
        text.push_str(&format!(
            "ProxyCommand ssh -o ControlMaster=no -S \"{}\" -W [%h]:%p bastion\n",
            socket.display()
        ));
    }
    text.push_str(&config_text(identity));
    let digest: String = Sha256::digest(text.as_bytes())
        .iter()
        .take(6)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let path = identity
        .known_hosts
        .path()
        .with_file_name(format!("ssh_config.{digest}"));
    if path.exists() {
        return Ok(path);
    }
    let file_error = |source| SshError::File {
        path: path.clone(),
        source,
    };
    // Written whole, then renamed: a connection made meanwhile reads no half-written file. The
    // temporary name carries the digest, so two texts written at once never swap files.
    let fresh = path.with_file_name(format!("ssh_config.{digest}.new-{}", std::process::id()));
    std::fs::write(&fresh, text).map_err(file_error)?;
    std::fs::rename(&fresh, &path).map_err(file_error)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::KnownHosts;

    /// What ssh itself makes of knit's configuration for `identity`: its `-G` lines.
    fn as_ssh_reads_it(identity: &Identity) -> Vec<String> {
        let config = config_file(identity, None, None).expect("written");
        let seen = std::process::Command::new("ssh")
            .arg("-G")
            .arg("-F")
            .arg(&config)
            .arg("host.example")
            .output()
            .expect("ssh runs (openssh-client)");
        String::from_utf8_lossy(&seen.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn identity(dir: &std::path::Path, ssh_config: bool, kex: KeyExchange) -> Identity {
        Identity {
            ssh_config,
            kex,
            ..Identity::isolated(dir.join("key"), KnownHosts::new(dir.join("known_hosts")))
        }
    }

    #[test]
    fn only_knits_known_hosts_are_trusted_as_ssh_reads_its_configuration() {
        let dir = tempfile::tempdir().expect("temp dir");
        for with_users_setup in [false, true] {
            let settings =
                as_ssh_reads_it(&identity(dir.path(), with_users_setup, KeyExchange::Fast));
            assert!(
                settings
                    .iter()
                    .any(|line| line == "globalknownhostsfile /dev/null"),
                "{settings:?}"
            );
        }
    }

    #[test]
    fn the_fast_exchange_comes_first_and_post_quantum_can_be_required() {
        let dir = tempfile::tempdir().expect("temp dir");
        let exchanges = |kex: KeyExchange| -> Vec<String> {
            let settings = as_ssh_reads_it(&identity(dir.path(), true, kex));
            let line = settings
                .iter()
                .find_map(|line| line.strip_prefix("kexalgorithms "))
                .expect("a kexalgorithms line")
                .to_owned();
            line.split(',').map(str::to_owned).collect()
        };
        let fast = exchanges(KeyExchange::Fast);
        assert!(
            fast[0] == "mlkem768x25519-sha256" || fast[0] == "curve25519-sha256",
            "{fast:?}"
        );
        // The client's own defaults follow, post-quantum ones among them.
        assert!(
            fast.iter().any(|name| name.starts_with("sntrup761")),
            "{fast:?}"
        );
        let post_quantum = exchanges(KeyExchange::PostQuantum);
        assert!(!post_quantum.is_empty());
        assert!(
            post_quantum
                .iter()
                .all(|name| name.starts_with("mlkem") || name.starts_with("sntrup761")),
            "{post_quantum:?}"
        );
        let listed = exchanges(KeyExchange::Listed("curve25519-sha256".to_owned()));
        assert_eq!(listed, ["curve25519-sha256"]);
    }
}
