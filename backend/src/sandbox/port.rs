//! Free loopback ports for the sandbox's servers.

use std::io;
use std::net::TcpListener;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where the ports come from: below Linux's ephemeral range (32768 and up), from which the OS
/// hands out both `bind(0)` ports and the local ports of outgoing connections, at random. A
/// port found free there at start could be some connection's own by the time a daemon binds
/// it, minutes later.
const PORTS: Range<u16> = 20_000..32_000;

/// The next port to offer, as an offset into `PORTS`. Each process starts at a random place
/// and goes up from there, so it never offers a port twice and two processes rarely meet.
static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);

/// A loopback port that was free a moment ago and that this process has not offered before.
pub fn free_port() -> io::Result<u16> {
    let width = u32::from(PORTS.end - PORTS.start);
    let start = getrandom::u32().map_err(io::Error::other)? % width;
    // The first call sets the random start; later ones find it set.
    let _ = NEXT.compare_exchange(u32::MAX, start, Ordering::Relaxed, Ordering::Relaxed);
    let mut last = None;
    for _ in 0..64 {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % width;
        let port = PORTS.start + u16::try_from(offset).expect("below the range's width");
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => return Ok(port),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no port tried")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_below_the_ephemeral_range_bind_and_do_not_repeat() {
        let ports: Vec<u16> = (0..20).map(|_| free_port().expect("a free port")).collect();
        for port in &ports {
            assert!(PORTS.contains(port), "{port}");
            TcpListener::bind(("127.0.0.1", *port)).expect("the port binds");
        }
        let distinct: std::collections::BTreeSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "{ports:?}");
    }
}
