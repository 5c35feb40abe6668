//! A TCP relay in front of a server that can drop every connection it carries, as a flaky
//! network or a restarting proxy does, while new connections still pass.

use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct Relay {
    /// `http://127.0.0.1:<port>`: the server, through the relay.
    pub url: String,
    carried: Arc<Mutex<Vec<AbortHandle>>>,
    accepting: AbortHandle,
}

impl Relay {
    /// Relays to the server at `url` (`http://host:port`).
    pub async fn start(url: &str) -> Self {
        let target = url.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("relay port");
        let port = listener.local_addr().expect("relay address").port();
        let carried: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let carrying = Arc::clone(&carried);
        let accepting = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let target = target.clone();
                let relayed = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                carrying
                    .lock()
                    .expect("relay lock")
                    .push(relayed.abort_handle());
            }
        })
        .abort_handle();
        Self {
            url: format!("http://127.0.0.1:{port}"),
            carried,
            accepting,
        }
    }

    /// Drops every connection open now; both ends see theirs closed.
    pub fn cut(&self) {
        for connection in self.carried.lock().expect("relay lock").drain(..) {
            connection.abort();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut();
    }
}
