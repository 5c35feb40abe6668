//! Free loopback ports for the sandbox's servers, claimed machine-wide.
//!
//! A port is chosen long before the daemon that listens on it starts (a run started over SSH
//! minutes later binds it), so a free port alone is not enough: another process could choose
//! the same one in between. Every port this process offers is therefore claimed with a lock on
//! a file named after it, held until the process exits; other processes skip claimed ports.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::net::TcpListener;
use std::ops::Range;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where the ports come from: below Linux's ephemeral range (32768 and up), from which the OS
/// hands out both `bind(0)` ports and the local ports of outgoing connections, at random. A
/// port found free there at start could be some connection's own by the time a daemon binds
/// it, minutes later.
const PORTS: Range<u16> = 20_000..32_000;

/// Ports found in use by something that claims none (another program) before giving up.
const MOST_TAKEN: u32 = 256;

/// The next port to try, as an offset into `PORTS`. Each process starts at a random place
/// and goes up from there, so it never tries a port twice and two processes rarely meet.
static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);

/// The locked claim files of the ports offered so far; the locks go with the process.
static CLAIMS: Mutex<Vec<File>> = Mutex::new(Vec::new());

/// A loopback port that was free a moment ago and that no process on this machine that is
/// still running has been offered before.
pub fn free_port() -> io::Result<u16> {
    let width = u32::from(PORTS.end - PORTS.start);
    let start = getrandom::u32().map_err(io::Error::other)? % width;
    // The first call sets the random start; later ones find it set.
    let _ = NEXT.compare_exchange(u32::MAX, start, Ordering::Relaxed, Ordering::Relaxed);
    let claims = claims_folder()?;
    let mut last = None;
    let mut taken = 0;
    // Claimed ports are skipped without counting: a long-lived process (a test run) claims
    // thousands in a row, and another one starting among them must find the end of the run.
    for _ in 0..width {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % width;
        let port = PORTS.start + u16::try_from(offset).expect("below the range's width");
        let Some(claim) = claim(&claims, port)? else {
            continue;
        };
        match TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => {
                CLAIMS.lock().unwrap_or_else(|e| e.into_inner()).push(claim);
                return Ok(port);
            }
            Err(error) => last = Some(error),
        }
        taken += 1;
        if taken == MOST_TAKEN {
            break;
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("every port is claimed by another process")))
}

/// The folder of the claim files, open to every account (the sandbox's own included), with
/// the sticky bit so that none removes another's.
fn claims_folder() -> io::Result<PathBuf> {
    let folder = std::env::temp_dir().join("knit-ports");
    if fs::create_dir(&folder).is_ok() {
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o1777))?;
    }
    Ok(folder)
}

/// The locked claim file of `port`, or None when another process holds it.
fn claim(folder: &std::path::Path, port: u16) -> io::Result<Option<File>> {
    let path = folder.join(port.to_string());
    let file = match OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(&path)
    {
        Ok(file) => file,
        // Made by another account: a lock needs no write access.
        Err(error) if error.kind() == io::ErrorKind::PermissionDenied => File::open(&path)?,
        Err(error) => return Err(error),
    };
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(error)) => Err(error),
    }
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

    #[test]
    fn a_long_run_of_claimed_ports_is_passed_over() {
        let folder = claims_folder().expect("the claims folder");
        let width = u32::from(PORTS.end - PORTS.start);
        free_port().expect("a first port sets where the next ones are looked for");
        let next = NEXT.load(Ordering::Relaxed);
        // More claimed in a row than the ports in use it gives up after.
        let held: Vec<(u16, File)> = (0..2 * MOST_TAKEN)
            .map(|step| {
                let port = PORTS.start + u16::try_from((next + step) % width).expect("in range");
                (port, claim(&folder, port).expect("a claim read"))
            })
            .filter_map(|(port, file)| Some((port, file?)))
            .collect();
        let port = free_port().expect("a port past the claimed ones");
        assert!(held.iter().all(|(claimed, _)| *claimed != port), "{port}");
    }

    #[test]
    fn a_port_offered_here_is_claimed_against_every_other_process() {
        let port = free_port().expect("a free port");
        // Another process's lock is another open file's: flock locks conflict between them.
        let folder = claims_folder().expect("the claims folder");
        assert!(claim(&folder, port).expect("a claim read").is_none());
    }
}
