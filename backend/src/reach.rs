//! Where this server dials an instance's port: the address EC2 gives it, except for the
//! sandbox's machines, which answer only on loopback relays of the host (docs/sandbox.md).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};

/// The relays in place of instances' addresses; empty outside the sandbox.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    relays: Arc<RwLock<HashMap<(IpAddr, u16), SocketAddr>>>,
}

impl Reach {
    /// Where to dial `port` of the instance at `address`.
    pub fn socket(&self, address: &str, port: u16) -> (String, u16) {
        match self.relay_of(address, port) {
            Some(relay) => (relay.ip().to_string(), relay.port()),
            None => (address.to_owned(), port),
        }
    }

    /// The relay that stands for `port` of `address`, if one does.
    pub fn relay_of(&self, address: &str, port: u16) -> Option<SocketAddr> {
        let ip = address.parse::<IpAddr>().ok()?;
        let relays = self.relays.read().unwrap_or_else(|e| e.into_inner());
        relays.get(&(ip, port)).copied()
    }

    /// From now on `port` of `address` is dialled at `relay`.
    pub fn relay(&self, address: IpAddr, port: u16, relay: SocketAddr) {
        let mut relays = self.relays.write().unwrap_or_else(|e| e.into_inner());
        relays.insert((address, port), relay);
    }

    /// Forgets every relay of `address`.
    pub fn forget(&self, address: IpAddr) {
        let mut relays = self.relays.write().unwrap_or_else(|e| e.into_inner());
        relays.retain(|(ip, _), _| *ip != address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relayed_port_is_dialled_at_its_relay_and_every_other_as_given() {
        let reach = Reach::default();
        let relay = SocketAddr::from(([127, 0, 0, 1], 24022));
        let machine = IpAddr::from([172, 31, 7, 10]);
        reach.relay(machine, 22, relay);
        assert_eq!(
            reach.socket("172.31.7.10", 22),
            ("127.0.0.1".to_owned(), 24022)
        );
        assert_eq!(
            reach.socket("172.31.7.10", 80),
            ("172.31.7.10".to_owned(), 80)
        );
        assert_eq!(
            reach.socket("ec2.example", 22),
            ("ec2.example".to_owned(), 22)
        );
        reach.forget(machine);
        assert_eq!(
            reach.socket("172.31.7.10", 22),
            ("172.31.7.10".to_owned(), 22)
        );
    }
}
