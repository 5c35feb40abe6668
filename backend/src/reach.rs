//! Where this server dials an instance's port: the address EC2 gives it, except for the
//! sandbox's machines, which answer only on loopback relays of the host (docs/sandbox.md).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// How long an SSH server has to say who it is.
const SSH_PROBE: Duration = Duration::from_secs(2);

/// The relays in place of instances' addresses; empty outside the sandbox.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    relays: Arc<RwLock<HashMap<(IpAddr, u16), SocketAddr>>>,
    /// Only relayed addresses are real: an EC2 emulator's are made up, and a try of one
    /// would send packets off this host for nothing.
    only_relays: bool,
}

impl Reach {
    /// The reach of instances of the EC2 at `endpoint` (AWS's own when `None`). An EC2 on
    /// loopback is an emulator (moto, the sandbox's), whose instances are reached only by
    /// relays, if at all.
    pub fn for_endpoint(endpoint: Option<&str>) -> Self {
        let host = endpoint
            .and_then(|endpoint| endpoint.parse::<axum::http::Uri>().ok())
            .and_then(|uri| uri.host().map(str::to_owned));
        let loopback = host.is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        Self {
            only_relays: loopback,
            ..Self::default()
        }
    }

    /// Where to dial `port` of the instance at `address`.
    pub fn socket(&self, address: &str, port: u16) -> (String, u16) {
        match self.relay_of(address, port) {
            Some(relay) => (relay.ip().to_string(), relay.port()),
            None => (address.to_owned(), port),
        }
    }

    /// Whether an SSH server answers on port 22 of `address`: its banner, not merely an
    /// accepted connection (some networks accept every connection).
    pub async fn answers_ssh(&self, address: &str) -> bool {
        if !self.dials_ssh(address) {
            return false;
        }
        let banner = async {
            let mut stream = TcpStream::connect(self.socket(address, 22)).await?;
            let mut start = [0_u8; 4];
            stream.read_exact(&mut start).await?;
            Ok::<_, std::io::Error>(start)
        };
        matches!(tokio::time::timeout(SSH_PROBE, banner).await, Ok(Ok(start)) if &start == b"SSH-")
    }

    /// Whether knit would dial port 22 of `address` at all: an emulator's made-up addresses
    /// are never dialled, so they are known silent without a try.
    pub fn dials_ssh(&self, address: &str) -> bool {
        !self.only_relays || self.relay_of(address, 22).is_some()
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

    #[test]
    fn only_an_ec2_on_loopback_is_taken_for_an_emulator() {
        for emulator in [
            "http://127.0.0.1:5000",
            "http://localhost:4566",
            "http://[::1]:5000",
        ] {
            assert!(
                Reach::for_endpoint(Some(emulator)).only_relays,
                "{emulator}"
            );
        }
        for aws in [
            None,
            Some("https://ec2.eu-west-1.amazonaws.com"),
            Some("https://vpce-1.ec2.us-east-1.vpce.amazonaws.com"),
        ] {
            assert!(!Reach::for_endpoint(aws).only_relays, "{aws:?}");
        }
    }

    #[tokio::test]
    async fn an_emulators_address_without_a_relay_is_never_dialled() {
        // A listener that would answer as sshd does, at an address taken as made up.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let _ = tokio::io::AsyncWriteExt::write_all(&mut stream, b"SSH-2.0-test\r\n").await;
            }
        });
        let reach = Reach::for_endpoint(Some("http://127.0.0.1:5000"));
        let machine = IpAddr::from([10, 0, 0, 7]);
        assert!(!reach.answers_ssh("10.0.0.7").await);
        reach.relay(machine, 22, SocketAddr::from(([127, 0, 0, 1], port)));
        assert!(reach.answers_ssh("10.0.0.7").await);
    }
}
