//! Connections kept between runs: a host's multiplexed connection stays open for a while after
//! its last use and serves the next run on that host, so `deploy` twice in a row connects once.
//! A kept connection that died (the host rebooted, the network dropped it) is replaced on the
//! spot; one that idled past its time has ended by itself.
//!
//! The server keeps them in its memory. A pool `shared` through a folder (the CLI's) leaves
//! them running when its process ends, their control sockets in that folder, for the next
//! process to take up.

use std::collections::HashMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use openssh::Session;
use sha2::{Digest, Sha256};

use super::session::connect_for;
use super::{Identity, SshError, SshTarget};

/// How long a connection is kept after its last use when its identity does not say.
pub const KEPT_FOR: Duration = Duration::from_secs(300);

/// Longer than any connection takes to start.
const STARTING_FOR: Duration = Duration::from_secs(60);

/// The longest control socket path a kept connection may have: a Unix socket's address holds
/// 108 bytes, and the SSH client adds its own folder to ours.
const LONGEST_SOCKET_FOLDER: usize = 70;

/// Connections by where they go and how: a different key, known_hosts, bastion or key
/// exchange is another connection, never a shared one.
#[derive(Debug, Default)]
pub struct Pool {
    kept: Mutex<HashMap<(SshTarget, Identity), Kept>>,
    /// Where the control sockets of connections shared between processes are.
    shared: Option<PathBuf>,
}

#[derive(Debug)]
struct Kept {
    session: Arc<Session>,
    used: Instant,
}

impl Pool {
    /// A pool whose connections outlive this process, with their control sockets in `folder`
    /// (made owner-only). A folder whose path is too long for a socket shares nothing.
    pub fn shared(folder: &Path) -> Self {
        let usable = folder.as_os_str().len() <= LONGEST_SOCKET_FOLDER
            && std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(folder)
                .is_ok();
        Self {
            kept: Mutex::default(),
            shared: usable.then(|| folder.to_owned()),
        }
    }

    /// A connection to `target` as `identity`: a kept one that still answers, else a new one,
    /// kept from now on.
    pub async fn session(
        &self,
        target: &SshTarget,
        identity: &Identity,
    ) -> Result<Arc<Session>, SshError> {
        let key = (target.clone(), identity.clone());
        let kept = self.lock().get(&key).map(|kept| Arc::clone(&kept.session));
        let kept = match kept {
            Some(session) => Some(session),
            None => self.left_by_another_process(&key).await,
        };
        if let Some(session) = kept
            && session.check().await.is_ok()
        {
            self.keep(key, Arc::clone(&session));
            return Ok(session);
        }
        let idle = identity.idle;
        if idle.is_zero() {
            // Not kept: it closes when the run lets it go.
            return Ok(Arc::new(connect_for(target, identity, None, None).await?));
        }
        let folder = self.folder_of(&key);
        let session = Arc::new(connect_for(target, identity, Some(idle), folder).await?);
        self.keep(key, Arc::clone(&session));
        Ok(session)
    }

    /// Closes every kept connection (the server stops).
    pub fn close_all(&self) {
        self.lock().clear();
    }

    fn keep(&self, key: (SshTarget, Identity), session: Arc<Session>) {
        let mut kept = self.lock();
        // Connections idle past their time have ended by themselves: forget them.
        kept.retain(|(_, identity), kept| kept.used.elapsed() < identity.idle);
        kept.insert(
            key,
            Kept {
                session,
                used: Instant::now(),
            },
        );
    }

    /// The folder of the control sockets for `key`, made when missing; `None` when not shared.
    fn folder_of(&self, key: &(SshTarget, Identity)) -> Option<PathBuf> {
        let shared = self.shared.as_ref()?;
        let digest = Sha256::digest(format!("{key:?}").as_bytes());
        let name: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let folder = shared.join(name);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&folder)
            .or_else(|error| match error.kind() {
                std::io::ErrorKind::AlreadyExists => Ok(()),
                _ => Err(error),
            })
            .ok()?;
        Some(folder)
    }

    /// A connection for `key` that an earlier process left running, if one answers. The
    /// folders of those that ended are removed (not one a minute old: its connection may be
    /// under way in another process).
    async fn left_by_another_process(&self, key: &(SshTarget, Identity)) -> Option<Arc<Session>> {
        let folder = self.folder_of(key)?;
        for entry in std::fs::read_dir(&folder).ok()?.flatten() {
            let socket = entry.path().join("master");
            let session = Session::resume_mux(socket.into_boxed_path(), None);
            if session.check().await.is_ok() {
                return Some(Arc::new(session));
            }
            let age = entry
                .metadata()
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok());
            if age.is_some_and(|age| age > STARTING_FOR) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        None
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(SshTarget, Identity), Kept>> {
        // Every change is one call: a panic elsewhere leaves the map consistent.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Pool {
    /// A shared pool leaves its connections running for the next process; each ends by itself
    /// once idle for its identity's `idle`.
    fn drop(&mut self) {
        if self.shared.is_none() {
            return;
        }
        for (_, kept) in self.lock().drain() {
            if let Ok(session) = Arc::try_unwrap(kept.session) {
                let _ = session.detach();
            }
        }
    }
}
