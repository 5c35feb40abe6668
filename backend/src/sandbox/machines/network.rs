//! The private network the sandbox's machines share, like a VPC's: a bridge in a namespace of
//! its own, and in every machine's namespace an `eth0` on it with the machine's private address.
//!
//! Every link is made directly inside namespaces made here (`ip link add … netns`), so the
//! host's own namespace never gets a link, an address or a route: the machines can reach each
//! other and nothing else. The host reaches a machine only through a relay (`relay.rs`).

use std::net::Ipv4Addr;
use std::path::PathBuf;

use tokio::process::Command;

use super::{MachineError, run};

/// The network of one sandbox; `name` starts the names of all its namespaces.
#[derive(Debug, Clone)]
pub struct Network {
    name: String,
}

impl Network {
    /// Makes the network's own namespace and bridge, after removing whatever an earlier start
    /// of the same name left (a sandbox killed with SIGKILL).
    pub async fn create(name: &str) -> Result<Self, MachineError> {
        let network = Self::named(name);
        network.remove().await;
        let bridge = network.namespace("vpc");
        ip(&["netns", "add", &bridge]).await?;
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge"]).await?;
        ip(&["-n", &bridge, "link", "set", "br0", "up"]).await?;
        Ok(network)
    }

    /// The network called `name`, made or not.
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_owned(),
        }
    }

    /// The name of the namespace of `machine` (or of the bridge, "vpc").
    pub fn namespace(&self, machine: &str) -> String {
        format!("{}-{machine}", self.name)
    }

    /// The file that stands for a namespace, for `setns` and `systemd-nspawn`.
    pub fn namespace_path(&self, machine: &str) -> PathBuf {
        PathBuf::from("/run/netns").join(self.namespace(machine))
    }

    /// Makes the namespace of `machine` with loopback up and `eth0` at `address` on the bridge.
    pub async fn attach(&self, machine: &str, address: Ipv4Addr) -> Result<(), MachineError> {
        let (bridge, own) = (self.namespace("vpc"), self.namespace(machine));
        let port = bridge_port(machine);
        self.detach(machine).await;
        ip(&["netns", "add", &own]).await?;
        ip(&["-n", &own, "link", "set", "lo", "up"]).await?;
        #[rustfmt::skip]
        ip(&["link", "add", &port, "netns", &bridge, "type", "veth", "peer", "name", "eth0", "netns", &own]).await?;
        ip(&["-n", &bridge, "link", "set", &port, "master", "br0", "up"]).await?;
        let cidr = format!("{address}/{}", on_link_prefix(address));
        ip(&["-n", &own, "addr", "add", &cidr, "dev", "eth0"]).await?;
        ip(&["-n", &own, "link", "set", "eth0", "up"]).await?;
        Ok(())
    }

    /// Removes the namespace of `machine`, and with it both ends of its link.
    pub async fn detach(&self, machine: &str) {
        let _ = ip(&["netns", "del", &self.namespace(machine)]).await;
    }

    /// Removes every namespace of this network, the machines' and the bridge's.
    pub async fn remove(&self) {
        let start = format!("{}-", self.name);
        let Ok(mut entries) = tokio::fs::read_dir("/run/netns").await else {
            return;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(&start) {
                let _ = ip(&["netns", "del", &name]).await;
            }
        }
    }
}

/// The prefix of the private range `address` is in (RFC 1918), so every machine on the bridge
/// reaches every other directly: moto gives instances without a subnet addresses anywhere in
/// 10.0.0.0/8, and its default VPC's are in 172.31.0.0/16.
fn on_link_prefix(address: Ipv4Addr) -> u8 {
    match address.octets() {
        [10, ..] => 8,
        [172, second, ..] if (16..32).contains(&second) => 12,
        _ => 16,
    }
}

/// The bridge's end of a machine's link: a name unique on the bridge and within Linux's
/// 15 characters.
fn bridge_port(machine: &str) -> String {
    let short: String = machine
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    format!("v{}", &short[short.len().saturating_sub(14)..])
}

async fn ip(args: &[&str]) -> Result<String, MachineError> {
    let mut command = Command::new("ip");
    command.args(args);
    run(&format!("ip {}", args.join(" ")), &mut command).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_anywhere_in_a_private_range_share_one_link() {
        assert_eq!(on_link_prefix(Ipv4Addr::new(10, 247, 12, 50)), 8);
        assert_eq!(on_link_prefix(Ipv4Addr::new(172, 31, 7, 10)), 12);
        assert_eq!(on_link_prefix(Ipv4Addr::new(192, 168, 1, 2)), 16);
    }

    #[test]
    fn bridge_ports_fit_linuxs_names() {
        assert_eq!(bridge_port("web-1"), "vweb1");
        let port = bridge_port("i-0123456789abcdef0");
        assert_eq!(port, "v3456789abcdef0");
        assert!(port.len() <= 15);
    }
}
