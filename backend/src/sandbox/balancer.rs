//! The demo site's address when machines run: a port on the host's loopback that stands in
//! front of the demo's frontends as a load balancer would, relaying each connection to the
//! next running frontend's port 80. Before `launch` it answers 503, saying what to press.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::free_port;

const READ: Duration = Duration::from_secs(5);
const NO_FRONTEND: &str = "knit's sandbox: no frontend of sandbox.demo runs yet. In the console, \
press launch, install and deploy on sandbox.demo.\n";

/// The loopback ports of the machines the site is relayed to, which the machines' keeper sets.
#[derive(Debug, Clone, Default)]
pub struct Frontends(Arc<RwLock<Vec<u16>>>);

impl Frontends {
    pub fn set(&self, ports: Vec<u16>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = ports;
    }

    fn get(&self) -> Vec<u16> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A running balancer; it stops when dropped.
#[derive(Debug)]
pub struct Balancer {
    pub port: u16,
    pub frontends: Frontends,
    accepting: JoinHandle<()>,
}

impl Balancer {
    pub async fn start() -> std::io::Result<Self> {
        let port = free_port()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let frontends = Frontends::default();
        let next = Arc::new(AtomicUsize::new(0));
        let known = frontends.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((near, _)) = listener.accept().await {
                let ports = known.get();
                let turn = next.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(relay(near, ports, turn));
            }
        });
        Ok(Self {
            port,
            frontends,
            accepting,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Relays `near` to the frontend whose turn it is, or the next that answers; with none, a 503.
async fn relay(mut near: TcpStream, ports: Vec<u16>, turn: usize) {
    for offset in 0..ports.len() {
        let port = ports[(turn + offset) % ports.len()];
        if let Ok(mut far) = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await {
            let _ = tokio::io::copy_bidirectional(&mut near, &mut far).await;
            return;
        }
    }
    // The request is read first: a socket closed with unread bytes resets the connection.
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
        match tokio::time::timeout(READ, near.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => request.extend_from_slice(&buffer[..n]),
            _ => break,
        }
    }
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{NO_FRONTEND}",
        NO_FRONTEND.len()
    );
    let _ = near.write_all(answer.as_bytes()).await;
    let _ = near.shutdown().await;
}
