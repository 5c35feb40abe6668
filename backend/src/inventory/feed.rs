//! The live feed: one poller per watched region, its changes broadcast to every subscriber.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use knit_shared::{Instance, InstanceChanges};
use tokio::sync::{Notify, broadcast};

use super::{FAST_POLL_INTERVAL, Inventory, POLL_INTERVAL, Snapshot};

/// A subscription to one region's changes.
pub type Feed = broadcast::Receiver<InstanceChanges>;

#[derive(Debug, Default)]
pub struct Feeds {
    regions: Mutex<HashMap<String, Poller>>,
}

#[derive(Debug)]
struct Poller {
    sender: broadcast::Sender<InstanceChanges>,
    /// Wakes the poller before its next tick, after knit itself changed something.
    wake: Arc<Notify>,
}

impl Feeds {
    pub fn subscribe(&self, inventory: &Arc<Inventory>, region: &str) -> Feed {
        let mut regions = self.lock();
        if let Some(poller) = regions.get(region) {
            return poller.sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(64);
        let wake = Arc::new(Notify::new());
        regions.insert(
            region.to_owned(),
            Poller {
                sender: sender.clone(),
                wake: Arc::clone(&wake),
            },
        );
        tokio::spawn(poll(Arc::clone(inventory), region.to_owned(), sender, wake));
        receiver
    }

    pub fn poke(&self, region: &str) {
        if let Some(poller) = self.lock().get(region) {
            poller.wake.notify_one();
        }
    }

    /// Removes the region's poller when nobody listens any more; says whether it did.
    fn retire_if_unwatched(
        &self,
        region: &str,
        sender: &broadcast::Sender<InstanceChanges>,
    ) -> bool {
        let mut regions = self.lock();
        if sender.receiver_count() > 0 {
            return false;
        }
        regions.remove(region);
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Poller>> {
        self.regions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn poll(
    inventory: Arc<Inventory>,
    region: String,
    sender: broadcast::Sender<InstanceChanges>,
    wake: Arc<Notify>,
) {
    // Start from the cached list, the one a new subscriber is sent first, so the feed carries
    // only what changed after it.
    let mut known: HashMap<String, Instance> = match inventory.snapshot(&region, false).await {
        Ok(snapshot) => snapshot
            .instances
            .iter()
            .map(|instance| (instance.id.clone(), instance.clone()))
            .collect(),
        Err(_) => HashMap::new(),
    };
    loop {
        if inventory.feeds.retire_if_unwatched(&region, &sender) {
            return;
        }
        let mut busy = false;
        match inventory.snapshot(&region, true).await {
            Ok(snapshot) => {
                busy = snapshot.instances.iter().any(|i| i.state.is_transitional());
                let changes = diff(&mut known, &snapshot, &region);
                if !(changes.changed.is_empty() && changes.removed.is_empty()) {
                    let _ = sender.send(changes);
                }
            }
            Err(error) => tracing::warn!(%region, %error, "live feed could not read EC2"),
        }
        let pause = if busy {
            FAST_POLL_INTERVAL
        } else {
            POLL_INTERVAL
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = wake.notified() => {}
        }
    }
}

/// What changed in `snapshot` since `known`, which it then becomes.
fn diff(
    known: &mut HashMap<String, Instance>,
    snapshot: &Snapshot,
    region: &str,
) -> InstanceChanges {
    let changed: Vec<Instance> = snapshot
        .instances
        .iter()
        .filter(|instance| known.get(&instance.id) != Some(instance))
        .cloned()
        .collect();
    let current: std::collections::HashSet<&str> =
        snapshot.instances.iter().map(|i| i.id.as_str()).collect();
    let removed: Vec<String> = known
        .keys()
        .filter(|id| !current.contains(id.as_str()))
        .cloned()
        .collect();
    for id in &removed {
        known.remove(id);
    }
    for instance in &changed {
        known.insert(instance.id.clone(), instance.clone());
    }
    InstanceChanges {
        region: region.to_owned(),
        changed,
        removed,
        fetched_at: snapshot.fetched_at.clone(),
    }
}
