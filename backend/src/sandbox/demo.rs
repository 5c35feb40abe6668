//! The sandbox's demo cluster: web hosts and a database host, all local sshd hosts.

use std::path::Path;

use super::SshHost;
use crate::ssh::Identity;

const TEMPLATE: &str = include_str!("demo.toml");
pub const FILE_NAME: &str = "sandbox-demo.toml";

/// Names of `count` hosts: the last is the database host, the others web hosts.
pub fn host_names(count: u8) -> Vec<String> {
    let web = count.saturating_sub(1).max(1);
    let mut names: Vec<String> = (1..=web).map(|n| format!("web{n}")).collect();
    if count > 1 {
        names.push("db1".to_owned());
    }
    names
}

/// Writes the demo cluster definition into `folder` with the hosts' current addresses.
pub async fn write_cluster(
    folder: &Path,
    hosts: &[SshHost],
    identity: &Identity,
) -> std::io::Result<()> {
    let quoted = |prefix: &str| {
        hosts
            .iter()
            .filter(|host| host.name.starts_with(prefix))
            .map(|host| format!("\"{}\"", host.target()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let key_file = identity
        .private_key
        .as_ref()
        .map(|key| key.display().to_string())
        .unwrap_or_default();
    let text = TEMPLATE
        .replace("{{KEY_FILE}}", &key_file)
        .replace("{{WEB_HOSTS}}", &quoted("web"))
        .replace("{{DB_HOSTS}}", &quoted("db"));
    tokio::fs::write(folder.join(FILE_NAME), text).await
}

#[cfg(test)]
mod tests {
    use super::host_names;

    #[test]
    fn three_hosts_are_two_web_hosts_and_a_database() {
        assert_eq!(host_names(3), ["web1", "web2", "db1"]);
        assert_eq!(host_names(1), ["web1"]);
        assert_eq!(host_names(2), ["web1", "db1"]);
    }
}
