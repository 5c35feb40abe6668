//! How many files knit may hold open at once. A run holds a few per host at work (the command's
//! channel to its SSH connection and its three streams, and those of the next one's shell), so
//! a wide `parallel` on a machine with a low limit would fail hosts midway with "Too many open
//! files": knit raises its own limit as far as the system lets it at start, and refuses a run
//! that would need more, before it runs.

use rustix::process::{Resource, getrlimit, setrlimit};

/// Files one host at work may hold open: its command's channel and streams, the same for the
/// shell waiting for its next command, and an upload (measured: about 8 at 200 hosts).
pub const PER_HOST: u64 = 12;
/// Files knit holds besides its runs': the database, listeners, clients, logs.
pub const BASELINE: u64 = 128;

/// Raises the soft limit on open files to the hard one, as most servers do at start (the soft
/// limit, often 1024, is a default for programs that do not know better).
pub fn raise_limit() {
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
}

/// The limit now; `None` when there is none.
pub fn limit() -> Option<u64> {
    getrlimit(Resource::Nofile).current
}

/// How many files a run with `hosts` hosts at work at once may need.
pub fn needed_for(hosts: usize) -> u64 {
    BASELINE + PER_HOST * hosts as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_raised_to_what_the_system_allows() {
        raise_limit();
        assert_eq!(
            getrlimit(Resource::Nofile).current,
            getrlimit(Resource::Nofile).maximum
        );
    }
}
