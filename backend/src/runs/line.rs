//! The line of runs waiting for their clusters. One watcher per process looks, for all of them
//! at once, which clusters' lines may move (no run holds the cluster and it is not frozen), and
//! wakes only the runs of those: a waiting run costs nothing while its cluster stays busy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::store::Store;

/// How often the watcher looks whether a line may move.
const LOOK_EVERY: Duration = Duration::from_millis(300);

#[derive(Debug, Default)]
pub struct Line {
    /// Per cluster with runs waiting here, what wakes them.
    waiting: Mutex<HashMap<String, Arc<Notify>>>,
    watching: AtomicBool,
}

impl Line {
    /// What wakes the runs waiting on `cluster` when its line may move; the watcher runs
    /// while anyone holds one.
    pub fn join(self: &Arc<Self>, store: &Store, cluster: &str) -> Arc<Notify> {
        let wake = Arc::clone(self.lock().entry(cluster.to_owned()).or_default());
        if !self.watching.swap(true, Ordering::SeqCst) {
            tokio::spawn(Arc::clone(self).watch(store.clone()));
        }
        wake
    }

    async fn watch(self: Arc<Self>, store: Store) {
        loop {
            tokio::time::sleep(LOOK_EVERY).await;
            let any = {
                let mut waiting = self.lock();
                waiting.retain(|_, wake| Arc::strong_count(wake) > 1);
                !waiting.is_empty()
            };
            if !any {
                self.watching.store(false, Ordering::SeqCst);
                // A run that joined just now saw the watcher still running: look once more.
                if self.lock().is_empty() || self.watching.swap(true, Ordering::SeqCst) {
                    return;
                }
                continue;
            }
            // A run left running by a process that is gone holds its cluster no more.
            if let Err(error) = store.mark_interrupted_runs().await {
                tracing::warn!(%error, "cannot look for interrupted runs");
            }
            match store.movable_lines().await {
                Ok(clusters) => {
                    let waiting = self.lock();
                    for cluster in clusters {
                        if let Some(wake) = waiting.get(&cluster) {
                            wake.notify_waiters();
                        }
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot look whether a line may move"),
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Notify>>> {
        // Every change is one call: a panic leaves the map consistent.
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
