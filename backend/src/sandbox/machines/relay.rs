//! A port on the host's loopback whose connections go on to a port inside a machine's network
//! namespace: how knit (and a browser) reach a machine without the host having any route to it.
//!
//! Each connection is dialled from a thread of its own that first enters the namespace; a
//! socket stays in the namespace it was made in, so the thread ends and the socket is relayed
//! from the host's side like any other.

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream as StdStream};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::time::Duration;

use rustix::thread::{LinkNameSpaceType, move_into_link_name_space};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::sandbox::free_port;

const DIAL: Duration = Duration::from_secs(5);

/// A running relay; it stops when dropped.
#[derive(Debug)]
pub struct Relay {
    pub port: u16,
    accepting: JoinHandle<()>,
}

impl Relay {
    /// Relays `127.0.0.1:<a free port>` to `127.0.0.1:<target>` inside `namespace`.
    pub async fn start(namespace: PathBuf, target: u16) -> io::Result<Self> {
        let port = free_port()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let accepting = tokio::spawn(async move {
            while let Ok((mut outside, _)) = listener.accept().await {
                let namespace = namespace.clone();
                tokio::spawn(async move {
                    match dial(namespace, target).await {
                        Ok(mut inside) => {
                            let _ = tokio::io::copy_bidirectional(&mut outside, &mut inside).await;
                        }
                        // The machine is off or still booting: the caller sees a closed
                        // connection, as from a machine whose port is not open yet.
                        Err(error) => tracing::debug!(%error, "a machine's port did not answer"),
                    }
                });
            }
        });
        Ok(Self { port, accepting })
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Connects to `127.0.0.1:<port>` inside `namespace`, from a thread that enters it and ends.
async fn dial(namespace: PathBuf, port: u16) -> io::Result<TcpStream> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let connected = File::open(&namespace).and_then(|file| {
            move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network))?;
            let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let stream = StdStream::connect_timeout(&address, DIAL)?;
            stream.set_nonblocking(true)?;
            Ok(stream)
        });
        let _ = sender.send(connected);
    });
    let stream = receiver.await.map_err(io::Error::other)??;
    TcpStream::from_std(stream)
}
