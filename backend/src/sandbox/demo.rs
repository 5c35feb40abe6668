//! The sandbox's demo cluster, carrying knit's built-in roles: on the sandbox's machines the
//! example's shape, launched (`demo_machines.toml`); where machines cannot run, web hosts and
//! a database host that are local sshd hosts (`demo.toml`).

use std::collections::BTreeMap;
use std::path::Path;

use super::{Site, SshHost};
use crate::ssh::Identity;

const TEMPLATE: &str = include_str!("demo.toml");
const ON_MACHINES: &str = include_str!("demo_machines.toml");
pub const FILE_NAME: &str = "sandbox-demo.toml";
const NAME: &str = "sandbox.demo";
/// The machine of `demo_machines.toml` whose instances serve the site.
const FRONTEND: &str = "frontend";

/// The demo database's password in knit's secrets folder, as its `password_file` names it.
const PASSWORD_FILE: &str = "sandbox.demo-db";

/// Makes the demo database's password once: random, in knit's secrets folder, which only
/// knit's account may read.
pub async fn write_password(secrets: &Path) -> std::io::Result<()> {
    tokio::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(secrets)
        .await?;
    let created = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(secrets.join(PASSWORD_FILE))
        .await;
    match created {
        Ok(mut file) => {
            let password = crate::accounts::new_secret("");
            tokio::io::AsyncWriteExt::write_all(&mut file, format!("{password}\n").as_bytes()).await
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// Whether an instance with these tags is a frontend of the demo cluster on machines.
pub fn is_frontend(tags: &BTreeMap<String, String>) -> bool {
    let tag = |key| tags.get(key).map(String::as_str);
    tag(crate::ec2::CLUSTER_TAG) == Some(NAME) && tag(crate::ec2::MACHINE_TAG) == Some(FRONTEND)
}

/// Writes the demo cluster on machines into `folder`: launched, logging in with `identity`'s key.
pub async fn write_machines_cluster(folder: &Path, identity: &Identity) -> std::io::Result<()> {
    let text = ON_MACHINES.replace("{{KEY_FILE}}", &key_file(identity));
    tokio::fs::write(folder.join(FILE_NAME), text).await
}

fn key_file(identity: &Identity) -> String {
    identity
        .private_key
        .as_ref()
        .map(|key| key.display().to_string())
        .unwrap_or_default()
}

/// Names of `count` hosts: the last is the database host, the others web hosts.
pub fn host_names(count: u8) -> Vec<String> {
    let web = count.saturating_sub(1).max(1);
    let mut names: Vec<String> = (1..=web).map(|n| format!("web-{n}")).collect();
    if count > 1 {
        names.push("db-1".to_owned());
    }
    names
}

/// Writes the demo cluster definition into `folder` with the hosts' current addresses and the
/// site's ports. With a single host, it carries the database's roles too.
pub async fn write_cluster(
    folder: &Path,
    hosts: &[SshHost],
    identity: &Identity,
    site: &Site,
) -> std::io::Result<()> {
    let quoted = |prefix: &str| {
        hosts
            .iter()
            .filter(|host| host.name.starts_with(prefix))
            .map(|host| format!("\"{}\"", host.target()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let db_hosts = match quoted("db") {
        none if none.is_empty() => quoted("web-1"),
        some => some,
    };
    let key_file = key_file(identity);
    let root = site.root.display().to_string();
    let web_host_settings: String = site
        .web
        .iter()
        .enumerate()
        .map(|(index, ports)| {
            let n = index + 1;
            format!(
                "[machines.web.host_settings.web-{n}]\nprefix = \"{root}/web-{n}\"\n\
                 app_dir = \"{root}/web-{n}/srv/app\"\nlisten = \"127.0.0.1:{}\"\napp_port = {}\n",
                ports.nginx, ports.app
            )
        })
        .collect();
    let text = TEMPLATE
        .replace("{{KEY_FILE}}", &key_file)
        .replace("{{WEB_HOSTS}}", &quoted("web"))
        .replace("{{DB_HOSTS}}", &db_hosts)
        .replace("{{WEB_HOST_SETTINGS}}", &web_host_settings)
        .replace("{{REPOSITORY}}", &site.repository().display().to_string())
        .replace("{{ROOT}}", &root)
        .replace("{{MEMCACHED_PORT}}", &site.memcached.to_string())
        .replace("{{REDIS_PORT}}", &site.redis.to_string())
        .replace("{{POSTGRES_PORT}}", &site.postgres.to_string())
        .replace("{{PGBOUNCER_PORT}}", &site.pgbouncer.to_string())
        .replace("{{POSTGRES_VERSION}}", &site.postgres_version.to_string());
    tokio::fs::write(folder.join(FILE_NAME), text).await
}

#[cfg(test)]
mod tests {
    use super::host_names;

    #[test]
    fn three_hosts_are_two_web_hosts_and_a_database() {
        assert_eq!(host_names(3), ["web-1", "web-2", "db-1"]);
        assert_eq!(host_names(1), ["web-1"]);
        assert_eq!(host_names(2), ["web-1", "db-1"]);
    }
}
