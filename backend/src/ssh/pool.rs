//! Connections kept between runs: a host's multiplexed connection stays open for a while after
//! its last use and serves the next run on that host, so `deploy` twice in a row connects once.
//! A kept connection that died (the host rebooted, the network dropped it) is replaced on the
//! spot; one that idled past its time has ended by itself.
//!
//! The server keeps them in its memory. A pool `shared` through a folder (the CLI's) leaves
//! them running when its process ends, their control sockets in that folder, for the next
//! process to take up.
//!
//! Hosts behind a bastion share one connection to it: each host's connection is a channel of
//! the bastion's (`ssh -W` over its control socket), not a login of its own there.

use std::collections::HashMap;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use openssh::Session;
use sha2::{Digest, Sha256};

use super::connect::connect_for;
use super::{Identity, SshError, SshTarget};

/// Longer than any connection takes to start.
const STARTING_FOR: Duration = Duration::from_secs(60);

/// The longest control socket path a kept connection may have: a Unix socket's address holds
/// 108 bytes, and the SSH client adds its own folder to ours.
const LONGEST_SOCKET_FOLDER: usize = 70;

/// Connections by where they go and how: a different key, known_hosts, bastion or key
/// exchange is another connection, never a shared one.
#[derive(Debug, Default)]
pub struct Pool {
    kept: Mutex<HashMap<Key, Kept>>,
    /// One connection is made at a time for each key, so that those who ask meanwhile (the
    /// hosts behind one bastion) take it up rather than make their own.
    turns: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
    /// Where the control sockets of connections shared between processes are.
    shared: Option<PathBuf>,
}

/// Where a connection goes, how, and the host keys trusted for it when it was made: a host
/// whose trusted key changed since (or is trusted no more) gets a new connection, checked
/// against what is trusted now.
type Key = (SshTarget, Identity, Vec<String>);

#[derive(Debug)]
struct Kept {
    connection: Arc<Connection>,
    used: Instant,
}

/// A connection to a host, and the bastion's it goes through, which lives as long as it does.
#[derive(Debug)]
pub struct Connection {
    master: Option<Arc<Session>>,
    /// Held, not used: the bastion's connection carries this one.
    _bastion: Option<Arc<Connection>>,
    /// Leave the connection running when dropped (a shared pool's).
    outlives_process: bool,
}

impl Connection {
    /// openssh's control master, which carries every command of this connection.
    pub fn master(&self) -> &Arc<Session> {
        self.master.as_ref().expect("taken only when dropped")
    }
}

impl Drop for Connection {
    /// Closes the connection, or leaves it for the next process; it ends by itself once idle for
    /// its identity's `idle`. The bastion's, if any, goes after it.
    fn drop(&mut self) {
        if self.outlives_process
            && let Some(master) = self.master.take().and_then(Arc::into_inner)
        {
            let _ = master.detach();
        }
    }
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
            shared: usable.then(|| folder.to_owned()),
            ..Self::default()
        }
    }

    /// A connection to `target` as `identity`: a kept one that still answers, else a new one,
    /// kept from now on.
    pub async fn connect(
        &self,
        target: &SshTarget,
        identity: &Identity,
    ) -> Result<Arc<Connection>, SshError> {
        let trusted = identity.known_hosts.trusted_for(&target.host, target.port);
        let key = (target.clone(), identity.clone(), trusted);
        let turn = {
            let mut turns = self
                .turns
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // A turn nobody holds or waits for is forgotten, lest every host ever reached
            // leave an entry for the process's life.
            turns.retain(|_, turn| Arc::strong_count(turn) > 1);
            Arc::clone(turns.entry(key.clone()).or_default())
        };
        let _turn = turn.lock().await;
        let kept = self
            .lock()
            .get(&key)
            .map(|kept| Arc::clone(&kept.connection));
        let kept = match kept {
            Some(connection) => Some(connection),
            None => self.left_by_another_process(&key).await,
        };
        if let Some(connection) = kept
            && connection.master().check().await.is_ok()
        {
            self.keep(key, Arc::clone(&connection));
            return Ok(connection);
        }
        let bastion = match &identity.bastion {
            Some(bastion) => {
                let direct = Identity {
                    bastion: None,
                    ..identity.clone()
                };
                Some(Box::pin(self.connect(&SshTarget::parse(bastion), &direct)).await?)
            }
            None => None,
        };
        let via = bastion
            .as_ref()
            .map(|bastion| bastion.master().control_socket());
        let idle = identity.idle;
        let kept = !idle.is_zero();
        let folder = kept.then(|| self.folder_of(&key)).flatten();
        let master = connect_for(target, identity, kept.then_some(idle), folder, via).await?;
        let connection = Arc::new(Connection {
            master: Some(Arc::new(master)),
            _bastion: bastion,
            outlives_process: kept && self.shared.is_some(),
        });
        if kept {
            self.keep(key, Arc::clone(&connection));
        }
        Ok(connection)
    }

    /// A new connection in place of `stale`, on which no command could start: its host went
    /// away without closing it, so its local master still answers the usual check. `stale` is
    /// kept no more, and its master stops taking commands, lest the next process take it up.
    pub async fn replace(
        &self,
        target: &SshTarget,
        identity: &Identity,
        stale: &Arc<Connection>,
    ) -> Result<Arc<Connection>, SshError> {
        self.lock()
            .retain(|_, kept| !Arc::ptr_eq(&kept.connection, stale));
        let socket = stale.master().control_socket().into();
        // A master that is gone already has nothing to stop.
        let _ = Session::resume_mux(socket, None).close().await;
        self.connect(target, identity).await
    }

    /// How many connections are kept now.
    pub fn kept(&self) -> usize {
        self.lock().len()
    }

    /// Closes every kept connection (the server stops).
    pub fn close_all(&self) {
        self.lock().clear();
    }

    fn keep(&self, key: Key, connection: Arc<Connection>) {
        let mut kept = self.lock();
        // Connections idle past their time have ended by themselves: forget them.
        kept.retain(|(_, identity, _), kept| kept.used.elapsed() < identity.idle);
        kept.insert(
            key,
            Kept {
                connection,
                used: Instant::now(),
            },
        );
    }

    /// The folder of the control sockets for `key`, made when missing; `None` when not shared.
    fn folder_of(&self, key: &Key) -> Option<PathBuf> {
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
    async fn left_by_another_process(&self, key: &Key) -> Option<Arc<Connection>> {
        let folder = self.folder_of(key)?;
        for entry in std::fs::read_dir(&folder).ok()?.flatten() {
            let socket = entry.path().join("master");
            let master = Session::resume_mux(socket.into_boxed_path(), None);
            if master.check().await.is_ok() {
                // Its bastion's connection, if any, was left running with it.
                return Some(Arc::new(Connection {
                    master: Some(Arc::new(master)),
                    _bastion: None,
                    outlives_process: true,
                }));
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

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Kept>> {
        // Every change is one call: a panic elsewhere leaves the map consistent.
        self.kept
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
