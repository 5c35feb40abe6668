//! After a launch: wait until each new instance answers on its SSH port, and record its host
//! key in knit's known_hosts. The key comes from the console output, where cloud-init prints
//! the keys it generated (EC2's own channel, so it cannot be an impostor's); only when there is
//! none, and the cluster allows it (`host_keys = "first_seen"`, the default), is the key taken
//! from the first connection, and the log says so.

use std::time::Duration;

use aws_sdk_ec2::Client;
use knit_shared::Instance;
use tokio::net::TcpStream;

use super::LaunchError;
use crate::ec2::{self, Ec2Target};
use crate::reach::Reach;
use crate::ssh::{self, KnownHosts};

/// How long an instance's SSH port may take to answer.
const PORT_LIMIT: Duration = Duration::from_secs(300);
/// How long to wait for cloud-init's keys in the console output.
const CONSOLE_LIMIT: Duration = Duration::from_secs(120);
const RETRY: Duration = Duration::from_secs(5);

const BEGIN: &str = "-----BEGIN SSH HOST KEY KEYS-----";
const END: &str = "-----END SSH HOST KEY KEYS-----";

/// The public keys (`type base64`) cloud-init printed in `console`, ed25519 first.
pub fn host_keys_in(console: &str) -> Vec<String> {
    let Some(block) = console
        .split(BEGIN)
        .nth(1)
        .and_then(|rest| rest.split(END).next())
    else {
        return Vec::new();
    };
    let mut keys: Vec<String> = block
        .lines()
        .filter_map(|line| {
            // Console lines may carry a prefix (a timestamp, "ci-info:"): find the key type.
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = words
                .iter()
                .position(|word| word.starts_with("ssh-") || word.starts_with("ecdsa-"))?;
            Some(format!("{} {}", words[at], words.get(at + 1)?))
        })
        .collect();
    keys.sort_by_key(|key| !key.starts_with("ssh-ed25519"));
    keys
}

/// Waits for each instance's SSH port and trusts its host key, saying how it was obtained.
/// Without `first_seen`, an instance whose console output shows no key fails the launch.
pub async fn record(
    instances: &[Instance],
    connect: &str,
    first_seen: bool,
    (client, target): (&Client, &Ec2Target),
    known_hosts: &KnownHosts,
    reach: &Reach,
    say: &impl Fn(String),
) -> Result<(), LaunchError> {
    for instance in instances {
        let Some(host) = ec2::connect_address(instance, connect) else {
            return Err(LaunchError::NoAddress {
                id: instance.id.clone(),
                connect: connect.to_owned(),
            });
        };
        let (dial, port) = reach.socket(&host, 22);
        if !port_answers(&dial, port, PORT_LIMIT).await {
            return Err(LaunchError::NoSsh {
                id: instance.id.clone(),
                address: host,
            });
        }
        say(format!("{} answers on {host}:22", instance.id));
        let pattern = ssh::host_pattern(&host, 22);
        let deadline = tokio::time::Instant::now() + CONSOLE_LIMIT;
        let key = loop {
            let console = ec2::console_output(client, target, &instance.id).await?;
            if let Some(key) = console
                .as_deref()
                .map(host_keys_in)
                .and_then(|k| k.into_iter().next())
            {
                say(format!(
                    "{}: host key {key} from the console output",
                    instance.id
                ));
                break key;
            }
            if tokio::time::Instant::now() >= deadline {
                if !first_seen {
                    return Err(LaunchError::NoHostKey {
                        id: instance.id.clone(),
                        seconds: CONSOLE_LIMIT.as_secs(),
                    });
                }
                let key = ssh::keyscan(&dial, port).await?;
                say(format!(
                    "{}: the console output holds no host keys; trusted {key} as first seen on {host} (not verified)",
                    instance.id
                ));
                break key;
            }
            tokio::time::sleep(RETRY).await;
        };
        known_hosts.trust(&pattern, &key).await?;
    }
    Ok(())
}

async fn port_answers(host: &str, port: u16, limit: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let attempt = tokio::time::timeout(RETRY, TcpStream::connect((host, port))).await;
        if matches!(attempt, Ok(Ok(_))) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(RETRY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::host_keys_in;

    #[test]
    fn the_keys_cloud_init_printed_are_found_ed25519_first() {
        let console = "[   12.3] cloud-init[812]: Generating keys\n\
            ec2: -----BEGIN SSH HOST KEY KEYS-----\n\
            ec2: ecdsa-sha2-nistp256 AAAAE2VjZHNh root@ip-10-0-0-5\n\
            ec2: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 root@ip-10-0-0-5\n\
            ec2: -----END SSH HOST KEY KEYS-----\n\
            login:";
        assert_eq!(
            host_keys_in(console),
            [
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5",
                "ecdsa-sha2-nistp256 AAAAE2VjZHNh"
            ]
        );
        assert!(host_keys_in("no keys here").is_empty());
    }
}
