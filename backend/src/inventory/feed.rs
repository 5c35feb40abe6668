//! The live feed: one poller per watched scope, its changes broadcast to every subscriber.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use knit_shared::{Instance, InstanceChanges};
use tokio::sync::{Notify, broadcast};

use super::{FAST_POLL_INTERVAL, Inventory, POLL_INTERVAL, Snapshot};
use crate::ec2::Scope;

/// A subscription to one scope's changes.
pub type Feed = broadcast::Receiver<InstanceChanges>;

#[derive(Debug, Default)]
pub struct Feeds {
    scopes: Mutex<HashMap<Scope, Poller>>,
}

#[derive(Debug)]
struct Poller {
    sender: broadcast::Sender<InstanceChanges>,
    /// Wakes the poller before its next tick, after knit itself changed something.
    wake: Arc<Notify>,
}

impl Feeds {
    pub fn subscribe(&self, inventory: &Arc<Inventory>, scope: &Scope) -> Feed {
        let mut scopes = self.lock();
        if let Some(poller) = scopes.get(scope) {
            return poller.sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(64);
        let wake = Arc::new(Notify::new());
        scopes.insert(
            scope.clone(),
            Poller {
                sender: sender.clone(),
                wake: Arc::clone(&wake),
            },
        );
        tokio::spawn(poll(Arc::clone(inventory), scope.clone(), sender, wake));
        receiver
    }

    pub fn poke(&self, scope: &Scope) {
        if let Some(poller) = self.lock().get(scope) {
            poller.wake.notify_one();
        }
    }

    /// Removes the scope's poller when nobody listens any more; says whether it did.
    fn retire_if_unwatched(
        &self,
        scope: &Scope,
        sender: &broadcast::Sender<InstanceChanges>,
    ) -> bool {
        let mut scopes = self.lock();
        if sender.receiver_count() > 0 {
            return false;
        }
        scopes.remove(scope);
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Scope, Poller>> {
        self.scopes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn poll(
    inventory: Arc<Inventory>,
    scope: Scope,
    sender: broadcast::Sender<InstanceChanges>,
    wake: Arc<Notify>,
) {
    // Start from the cached list, the one a new subscriber is sent first, so the feed carries
    // only what changed after it.
    let mut known: HashMap<String, Instance> = match inventory.snapshot(&scope, false).await {
        Ok(snapshot) => inventory
            .with_ssh(&scope, &snapshot)
            .into_iter()
            .map(|instance| (instance.id.clone(), instance))
            .collect(),
        Err(error) => {
            // Then the first good poll sends the whole list again, which is still correct.
            tracing::warn!(%scope, %error, "live feed could not read EC2");
            HashMap::new()
        }
    };
    loop {
        if inventory.feeds.retire_if_unwatched(&scope, &sender) {
            return;
        }
        let mut busy = false;
        match inventory.snapshot(&scope, true).await {
            Ok(snapshot) => {
                busy = snapshot.instances.iter().any(|i| i.state.is_transitional());
                let instances = inventory.with_ssh(&scope, &snapshot);
                let changes = diff(&mut known, &instances, &snapshot, &scope.region);
                if !(changes.changed.is_empty() && changes.removed.is_empty()) {
                    let _ = sender.send(changes);
                }
            }
            Err(error) => tracing::warn!(%scope, %error, "live feed could not read EC2"),
        }
        let pause = if busy {
            FAST_POLL_INTERVAL
        } else {
            POLL_INTERVAL
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = wake.notified() => {}
            _ = inventory.ssh.changed.notified() => {}
        }
    }
}

/// What changed in `instances` (read as `snapshot`) since `known`, which it then becomes.
fn diff(
    known: &mut HashMap<String, Instance>,
    instances: &[Instance],
    snapshot: &Snapshot,
    region: &str,
) -> InstanceChanges {
    let changed: Vec<Instance> = instances
        .iter()
        .filter(|instance| known.get(&instance.id) != Some(instance))
        .cloned()
        .collect();
    let current: std::collections::HashSet<&str> =
        instances.iter().map(|i| i.id.as_str()).collect();
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
