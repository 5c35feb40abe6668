//! What a plan is made of: the hosts of a run, and the commands rendered for each.

use std::time::Duration;

use knit_shared::SshTarget;

/// A host of a run: a short name, its machine, and where to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub machine: String,
    pub target: SshTarget,
    /// The address the cluster's other machines reach it by, when knit logs in by another:
    /// an EC2 instance's private IP.
    pub private_ip: Option<String>,
}

impl Host {
    /// The address the cluster's other machines reach it by: its private IP, or else the one
    /// knit logs in at.
    pub fn peer_address(&self) -> &str {
        self.private_ip.as_deref().unwrap_or(&self.target.host)
    }
}

/// A host found for a machine: a listed one, or an EC2 instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundHost {
    pub target: SshTarget,
    pub private_ip: Option<String>,
}

impl From<SshTarget> for FoundHost {
    fn from(target: SshTarget) -> Self {
        Self {
            target,
            private_ip: None,
        }
    }
}

/// The hosts found for each machine of a cluster, by machine name.
pub type MachineHosts = std::collections::BTreeMap<String, Vec<FoundHost>>;

/// One rendered action of a role's task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run {
        role: String,
        script: String,
        continue_on_error: bool,
        timeout: Option<Duration>,
    },
    Upload {
        role: String,
        /// The template file the text comes from; none for a kind's own text (`write`).
        from: Option<String>,
        content: String,
        to: String,
        /// The shell script that writes its standard input to `to`.
        upload_script: String,
        /// The shell script that prints the file at `to` as it is, or [`NO_FILE`] alone.
        read_script: String,
        /// Its content is never shown, not even as a difference (a password's file).
        secret: bool,
    },
}

/// What a [`Command::Upload`]'s `read_script` prints where no file is.
pub const NO_FILE: &str = "::knit-no-file";

/// `upload templates/site.conf to /etc/...`, or `write /etc/...` for a kind's own text.
pub fn file_action(from: &Option<String>, to: &str) -> String {
    match from {
        Some(from) => format!("upload {from} to {to}"),
        None => format!("write {to}"),
    }
}
