//! SSH: key files, the known_hosts file knit verifies against, and connections to hosts.
//!
//! knit drives the system's OpenSSH client (through the `openssh` crate's native multiplexing),
//! always with strict host key checking against knit's own known_hosts file, never the user's.

mod config;
mod connect;
pub mod exec;
mod keys;
mod keyscan;
mod known_hosts;
mod pool;
mod starts;

pub use config::KeyExchange;
pub use connect::{Identity, KEPT_FOR, connect};
pub use keys::{KeyPair, ensure_key_pair, fingerprint};
pub use keyscan::keyscan;
pub use knit_shared::SshTarget;
pub use known_hosts::{KnownHosts, host_pattern};
pub use pool::{Connection, Pool};

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("cannot run {program}: {source}; is OpenSSH installed (Debian: openssh-client)?")]
    Spawn {
        program: &'static str,
        source: std::io::Error,
    },
    #[error("{program} failed: {stderr}")]
    Tool {
        program: &'static str,
        stderr: String,
    },
    #[error("cannot update {path}: {source}")]
    File {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {detail}")]
    Connect { target: String, detail: String },
}
