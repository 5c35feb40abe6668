//! Connections kept between runs: a host's multiplexed connection stays open for a while after
//! its last use and serves the next run on that host, so `deploy` twice in a row connects once.
//! A kept connection that died (the host rebooted, the network dropped it) is replaced on the
//! spot; one that idled past its time has ended by itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use openssh::Session;

use super::session::connect_for;
use super::{Identity, SshError, SshTarget};

/// How long a connection is kept after its last use.
pub const KEPT_FOR: Duration = Duration::from_secs(300);

/// Connections by where they go and how: a different key, known_hosts, bastion or key
/// exchange is another connection, never a shared one.
#[derive(Debug, Default)]
pub struct Pool {
    kept: Mutex<HashMap<(SshTarget, Identity), Kept>>,
}

#[derive(Debug)]
struct Kept {
    session: Arc<Session>,
    used: Instant,
}

impl Pool {
    /// A connection to `target` as `identity`: a kept one that still answers, else a new one,
    /// kept from now on.
    pub async fn session(
        &self,
        target: &SshTarget,
        identity: &Identity,
    ) -> Result<Arc<Session>, SshError> {
        let key = (target.clone(), identity.clone());
        let kept = self.lock().get(&key).map(|kept| Arc::clone(&kept.session));
        if let Some(session) = kept
            && session.check().await.is_ok()
        {
            if let Some(kept) = self.lock().get_mut(&key) {
                kept.used = Instant::now();
            }
            return Ok(session);
        }
        let session = Arc::new(connect_for(target, identity, Some(KEPT_FOR)).await?);
        let mut kept = self.lock();
        // Connections idle past their time have ended by themselves: forget them.
        kept.retain(|_, kept| kept.used.elapsed() < KEPT_FOR);
        kept.insert(
            key,
            Kept {
                session: Arc::clone(&session),
                used: Instant::now(),
            },
        );
        Ok(session)
    }

    /// Closes every kept connection (the server stops).
    pub fn close_all(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(SshTarget, Identity), Kept>> {
        // Every change is one call: a panic elsewhere leaves the map consistent.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
