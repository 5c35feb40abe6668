//! Relays across the wall between the host's network namespace and a machine's, always between
//! two loopback ports: how knit (and a browser) reach a machine, and how a machine reaches the
//! package proxy, without either side having a route to the other.
//!
//! A socket stays in the namespace it was made in, so the side inside the machine's namespace
//! is made by a thread that enters it first and ends; the socket is then used from the host's
//! side like any other.

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
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
    /// The loopback port it listens on, in the host's namespace or the machine's.
    pub port: u16,
    accepting: JoinHandle<()>,
}

impl Relay {
    /// Relays `127.0.0.1:<a free port>` of the host to `127.0.0.1:<target>` inside `namespace`.
    pub async fn into_namespace(namespace: PathBuf, target: u16) -> io::Result<Self> {
        let port = free_port()?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        Ok(Self::accepting(listener, port, move || {
            in_namespace(namespace.clone(), move || {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, target));
                let stream = StdStream::connect_timeout(&address, DIAL)?;
                stream.set_nonblocking(true)?;
                Ok(stream)
            })
        }))
    }

    /// Relays `127.0.0.1:<port>` inside `namespace` to `127.0.0.1:<target>` of the host.
    pub async fn out_of_namespace(namespace: PathBuf, port: u16, target: u16) -> io::Result<Self> {
        let listener = in_namespace(namespace, move || {
            let listener = StdListener::bind((Ipv4Addr::LOCALHOST, port))?;
            listener.set_nonblocking(true)?;
            Ok(listener)
        })
        .await?;
        let listener = TcpListener::from_std(listener)?;
        Ok(Self::accepting(listener, port, move || async move {
            let stream = TcpStream::connect((Ipv4Addr::LOCALHOST, target)).await?;
            stream.into_std()
        }))
    }

    /// Accepts on `listener` and relays each connection to a stream `dial` opens.
    fn accepting<D, F>(listener: TcpListener, port: u16, dial: D) -> Self
    where
        D: Fn() -> F + Send + 'static,
        F: Future<Output = io::Result<StdStream>> + Send + 'static,
    {
        let accepting = tokio::spawn(async move {
            while let Ok((mut near, _)) = listener.accept().await {
                let dialled = dial();
                tokio::spawn(async move {
                    match dialled.await.and_then(TcpStream::from_std) {
                        Ok(mut far) => {
                            let _ = tokio::io::copy_bidirectional(&mut near, &mut far).await;
                        }
                        // The far side is off or still starting: the caller sees a closed
                        // connection, as from a port that is not open yet.
                        Err(error) => tracing::debug!(%error, "a relayed port did not answer"),
                    }
                });
            }
        });
        Self { port, accepting }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Runs `make` on a thread that first enters the network namespace `namespace`, and ends.
async fn in_namespace<T, M>(namespace: PathBuf, make: M) -> io::Result<T>
where
    T: Send + 'static,
    M: FnOnce() -> io::Result<T> + Send + 'static,
{
    let (sender, receiver) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let made = File::open(&namespace).and_then(|file| {
            move_into_link_name_space(file.as_fd(), Some(LinkNameSpaceType::Network))?;
            make()
        });
        let _ = sender.send(made);
    });
    receiver.await.map_err(io::Error::other)?
}
