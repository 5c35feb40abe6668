//! Free loopback ports for the sandbox's servers.

use std::net::TcpListener;

/// A loopback port that was free a moment ago. The OS hands out ports in sequence, so the
/// window in which another process could take it before our server binds it is tiny.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}
