//! Starting connections the way sshd takes them. sshd drops new connections beyond its
//! `MaxStartups` (10 unauthenticated at a time by default, then at random) before a word is
//! exchanged, so knit opens at most `PER_SERVER` at a time to one server, and tries a start that
//! was dropped that way again after a growing pause instead of failing the host.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::SshError;

/// Handshakes at once to one sshd: sshd's default `MaxStartups` start.
const PER_SERVER: usize = 10;
/// How long dropped starts are tried again.
const RETRY_FOR: Duration = Duration::from_secs(30);
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(2);

/// The handshakes under way, by the sshd that answers them first.
static SERVERS: Mutex<BTreeMap<String, Arc<Semaphore>>> = Mutex::new(BTreeMap::new());

/// Runs `start` (a connection to `server`, `host:port` or the bastion in front of it) when fewer
/// than `PER_SERVER` are starting there, again while sshd drops it at the start.
pub async fn paced<T, F>(server: &str, mut start: impl FnMut() -> F) -> Result<T, SshError>
where
    F: Future<Output = Result<T, SshError>>,
{
    let starting = Arc::clone(
        SERVERS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(server.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(PER_SERVER))),
    );
    let deadline = Instant::now() + RETRY_FOR;
    let mut pause = FIRST_PAUSE;
    loop {
        let outcome = {
            let _turn = starting
                .acquire()
                .await
                .expect("the semaphore is never closed");
            start().await
        };
        match outcome {
            Err(error) if dropped_at_start(&error) && Instant::now() + pause < deadline => {
                // Half the pause, plus up to as much at random, so that dropped starts spread.
                let spread = getrandom::u32().unwrap_or(0) % (pause.as_millis() as u32 / 2 + 1);
                tokio::time::sleep(pause / 2 + Duration::from_millis(spread.into())).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
            outcome => return outcome,
        }
    }
}

/// sshd closed the connection before it said who it is: what `MaxStartups` does. Nothing was
/// sent yet, so trying again is safe.
fn dropped_at_start(error: &SshError) -> bool {
    matches!(error, SshError::Connect { detail, .. } if detail.contains("kex_exchange_identification"))
}
