//! The live feed: one poller per watched scope, its changes broadcast to every subscriber.
//! What the subscribers were told so far is kept beside the poller: each poll sends only what
//! differs from it, and a new subscriber is sent all of it first, so a subscriber's list is
//! always what the poller believes it is (an SSH answer that came meanwhile is not lost).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use knit_shared::{Instance, InstanceChanges};
use tokio::sync::{Notify, broadcast};

use super::{FAST_POLL_INTERVAL, Inventory, POLL_INTERVAL, lock};
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
    told: Arc<Told>,
}

/// The instances a scope's subscribers were told of, once anyone was.
#[derive(Debug, Default)]
pub struct Told(Mutex<Option<Known>>);

#[derive(Debug)]
struct Known {
    instances: HashMap<String, Instance>,
    /// RFC 3339: when EC2 was last read for them.
    fetched_at: String,
}

impl Feeds {
    /// Subscribes to `scope`'s changes, starting its poller if nobody watched it yet; with
    /// what its subscribers were told so far.
    pub fn subscribe(&self, inventory: &Arc<Inventory>, scope: &Scope) -> (Feed, Arc<Told>) {
        let mut scopes = lock(&self.scopes);
        if let Some(poller) = scopes.get(scope) {
            return (poller.sender.subscribe(), Arc::clone(&poller.told));
        }
        let (sender, receiver) = broadcast::channel(64);
        let poller = Poller {
            sender,
            wake: Arc::new(Notify::new()),
            told: Arc::default(),
        };
        let told = Arc::clone(&poller.told);
        tokio::spawn(poll(
            Arc::clone(inventory),
            scope.clone(),
            poller.sender.clone(),
            Arc::clone(&poller.wake),
            Arc::clone(&poller.told),
        ));
        scopes.insert(scope.clone(), poller);
        (receiver, told)
    }

    pub fn poke(&self, scope: &Scope) {
        if let Some(poller) = lock(&self.scopes).get(scope) {
            poller.wake.notify_one();
        }
    }

    /// Removes the scope's poller when nobody listens any more; says whether it did.
    fn retire_if_unwatched(
        &self,
        scope: &Scope,
        sender: &broadcast::Sender<InstanceChanges>,
    ) -> bool {
        let mut scopes = lock(&self.scopes);
        if sender.receiver_count() > 0 {
            return false;
        }
        scopes.remove(scope);
        true
    }
}

impl Told {
    /// The whole list as a new subscriber is sent it first: what the others were told, or
    /// the instances `read` gives (read at `fetched_at`) when nobody was told anything yet.
    pub fn first(
        &self,
        region: &str,
        read: impl FnOnce() -> Vec<Instance>,
        fetched_at: &str,
    ) -> InstanceChanges {
        let mut told = lock(&self.0);
        let known = told.get_or_insert_with(|| Known {
            instances: read()
                .into_iter()
                .map(|instance| (instance.id.clone(), instance))
                .collect(),
            fetched_at: fetched_at.to_owned(),
        });
        let mut changed: Vec<Instance> = known.instances.values().cloned().collect();
        changed.sort_by(|a, b| a.id.cmp(&b.id));
        InstanceChanges {
            region: region.to_owned(),
            changed,
            removed: Vec::new(),
            fetched_at: known.fetched_at.clone(),
        }
    }

    /// Sends what differs in `instances` (read at `fetched_at`) from what was told, which
    /// they then become. Sent under the lock, so a subscriber that reads the told list meanwhile
    /// is sent this change after it, never before.
    fn tell(
        &self,
        region: &str,
        instances: Vec<Instance>,
        fetched_at: &str,
        sender: &broadcast::Sender<InstanceChanges>,
    ) {
        let mut told = lock(&self.0);
        let known = told.get_or_insert_with(|| Known {
            // Nobody was told anything: the whole list is news, which is still correct.
            instances: HashMap::new(),
            fetched_at: fetched_at.to_owned(),
        });
        let changes = diff(known, instances, region, fetched_at);
        if !(changes.changed.is_empty() && changes.removed.is_empty()) {
            let _ = sender.send(changes);
        }
    }
}

async fn poll(
    inventory: Arc<Inventory>,
    scope: Scope,
    sender: broadcast::Sender<InstanceChanges>,
    wake: Arc<Notify>,
    told: Arc<Told>,
) {
    let mut answers = inventory.ssh.news();
    loop {
        if inventory.feeds.retire_if_unwatched(&scope, &sender) {
            return;
        }
        let mut busy = false;
        match inventory.snapshot(&scope, true).await {
            Ok(snapshot) => {
                busy = snapshot.instances.iter().any(|i| i.state.is_transitional());
                let instances = inventory.with_ssh(&scope, &snapshot);
                told.tell(&scope.region, instances, &snapshot.fetched_at, &sender);
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
            _ = answers.changed() => {}
        }
    }
}

/// What changed in `instances` since `known`, which it then becomes.
fn diff(
    known: &mut Known,
    instances: Vec<Instance>,
    region: &str,
    fetched_at: &str,
) -> InstanceChanges {
    let current: std::collections::HashSet<&str> =
        instances.iter().map(|i| i.id.as_str()).collect();
    let removed: Vec<String> = known
        .instances
        .keys()
        .filter(|id| !current.contains(id.as_str()))
        .cloned()
        .collect();
    for id in &removed {
        known.instances.remove(id);
    }
    let changed: Vec<Instance> = instances
        .into_iter()
        .filter(|instance| known.instances.get(&instance.id) != Some(instance))
        .collect();
    for instance in &changed {
        known
            .instances
            .insert(instance.id.clone(), instance.clone());
    }
    known.fetched_at = fetched_at.to_owned();
    InstanceChanges {
        region: region.to_owned(),
        changed,
        removed,
        fetched_at: fetched_at.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use knit_shared::InstanceState;

    use super::*;
    use crate::inventory::instance;

    #[test]
    fn a_subscriber_is_told_what_the_others_were_then_only_what_changes() {
        let (sender, mut feed) = broadcast::channel(8);
        let told = Told::default();
        let web = instance("i-1", InstanceState::Running, "10.0.0.7");
        let db = instance("i-2", InstanceState::Running, "10.0.0.8");

        // Nobody was told anything: the poll's whole list is news.
        told.tell("r", vec![web.clone(), db.clone()], "t1", &sender);
        assert_eq!(feed.try_recv().expect("news").changed.len(), 2);

        // An answer that came since is told to the feed, and is in a newcomer's first list
        // even when the newcomer read an older one itself.
        let answered = Instance {
            ssh: Some(true),
            ..web.clone()
        };
        told.tell("r", vec![answered.clone(), db.clone()], "t2", &sender);
        let news = feed.try_recv().expect("news");
        assert_eq!(
            (news.changed, news.removed),
            (vec![answered.clone()], vec![])
        );
        let first = told.first("r", || vec![web, db.clone()], "t0");
        assert_eq!(first.changed, vec![answered.clone(), db.clone()]);
        assert_eq!(first.fetched_at, "t2");

        // Nothing changed: nothing is sent. A departure is.
        told.tell("r", vec![answered.clone(), db], "t3", &sender);
        assert!(feed.try_recv().is_err());
        told.tell("r", vec![answered], "t4", &sender);
        let news = feed.try_recv().expect("news");
        assert_eq!(
            (news.changed, news.removed),
            (vec![], vec!["i-2".to_owned()])
        );
    }
}
