//! The instance inventory: instances per scope (profile and region), read from EC2 at most once per few seconds
//! however many people look, actions that invalidate what they change, and a live feed of
//! changes shared by every open console.

mod cache;
mod clusters;
mod feed;
mod ssh;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use knit_shared::{
    ActionOutcome, ActionRequest, ActionResponse, Instance, InstanceChanges, InstanceList,
    InstanceQuery,
};

use crate::ec2::{self, CLUSTER_TAG, Ec2Hub, Ec2Target, Scope, ScopeError};

pub use cache::Snapshot;
pub use feed::Feed;

/// How long a list read from EC2 is served to other requests before EC2 is read again.
const CACHE_TTL: Duration = Duration::from_secs(10);
/// How often the live feed reads EC2 while someone watches.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// How often while an instance is pending, stopping or shutting down.
const FAST_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// One request's EC2: its resolved scope, a client, and the target for error messages.
#[derive(Debug)]
pub struct Connection {
    pub scope: Scope,
    pub client: aws_sdk_ec2::Client,
    pub target: Ec2Target,
}

#[derive(Debug)]
pub struct Inventory {
    pub hub: Arc<Ec2Hub>,
    cache: cache::Cache,
    feeds: feed::Feeds,
    ssh: ssh::SshWatch,
}

impl Inventory {
    pub fn new(hub: Arc<Ec2Hub>, page_size: i32) -> Arc<Self> {
        Arc::new(Self {
            ssh: ssh::SshWatch::new(hub.reach().clone()),
            hub,
            cache: cache::Cache::new(CACHE_TTL, page_size),
            feeds: feed::Feeds::default(),
        })
    }

    /// Resolves `profile` and `region` (the server's own when absent) and connects to that EC2.
    pub async fn connect(
        &self,
        profile: Option<&str>,
        region: Option<&str>,
    ) -> Result<Connection, ScopeError> {
        let scope = self.hub.resolve(profile, region).await?;
        Ok(Connection {
            client: self.hub.client(&scope).await,
            target: self.hub.target(&scope),
            scope,
        })
    }

    /// The instances of the query's scope that match its filters, in its order.
    pub async fn list(&self, query: &InstanceQuery) -> Result<InstanceList, ScopeError> {
        let scope = self
            .hub
            .resolve(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let snapshot = self.snapshot(&scope, query.refresh).await?;
        Ok(InstanceList {
            instances: query.apply(&self.with_ssh(&scope, &snapshot)),
            total: snapshot.instances.len(),
            fetched_at: snapshot.fetched_at.clone(),
            region: scope.region,
        })
    }

    /// All instances of `scope`, from the cache unless it is stale or `refresh` is asked.
    pub async fn snapshot(
        &self,
        scope: &Scope,
        refresh: bool,
    ) -> Result<Arc<Snapshot>, ScopeError> {
        let client = self.hub.client(scope).await;
        Ok(self
            .cache
            .get(scope, refresh, &client, &self.hub.target(scope))
            .await?)
    }

    /// The snapshot's instances, each saying whether it answers SSH as far as knit knows.
    fn with_ssh(&self, scope: &Scope, snapshot: &Snapshot) -> Vec<Instance> {
        let mut instances = snapshot.instances.clone();
        self.ssh.mark(scope, &mut instances);
        instances
    }

    /// Forgets the scope's cached list and wakes its feed, so every console sees what was just
    /// changed there at once.
    pub async fn changed(&self, scope: &Scope) {
        self.cache.forget(scope).await;
        self.feeds.poke(scope);
    }

    /// Carries out an action, then forgets the scope's cached list and wakes its feed so
    /// every console sees the new states at once. Instances of the clusters in `closed`
    /// (cluster → its operators) are refused, each with its own answer.
    pub async fn act(
        &self,
        request: &ActionRequest,
        closed: &BTreeMap<String, Vec<String>>,
    ) -> Result<ActionResponse, ScopeError> {
        let ec2 = self
            .connect(request.profile.as_deref(), request.region.as_deref())
            .await?;
        let mut outcomes = self
            .closed_instances(&ec2.scope, &request.instance_ids, closed)
            .await?;
        let allowed: Vec<String> = request
            .instance_ids
            .iter()
            .filter(|id| !outcomes.iter().any(|o| &o.instance_id == *id))
            .cloned()
            .collect();
        if !allowed.is_empty() {
            outcomes.extend(ec2::act(&ec2.client, &ec2.target, request.action, &allowed).await);
        }
        outcomes.sort_by_key(|o| {
            request
                .instance_ids
                .iter()
                .position(|id| *id == o.instance_id)
        });
        self.changed(&ec2.scope).await;
        Ok(ActionResponse {
            action: request.action,
            outcomes,
        })
    }

    /// Refusals for those of `ids` that a cluster of `closed` launched (tagged `knit:cluster`).
    async fn closed_instances(
        &self,
        scope: &Scope,
        ids: &[String],
        closed: &BTreeMap<String, Vec<String>>,
    ) -> Result<Vec<ActionOutcome>, ScopeError> {
        if closed.is_empty() {
            return Ok(Vec::new());
        }
        let mut snapshot = self.snapshot(scope, false).await?;
        let known =
            |snapshot: &Snapshot, id: &String| snapshot.instances.iter().any(|i| &i.id == id);
        if !ids.iter().all(|id| known(&snapshot, id)) {
            snapshot = self.snapshot(scope, true).await?;
        }
        Ok(snapshot
            .instances
            .iter()
            .filter(|instance| ids.contains(&instance.id))
            .filter_map(|instance| {
                let cluster = instance.tags.get(CLUSTER_TAG)?;
                let operators = closed.get(cluster)?;
                Some(ActionOutcome {
                    instance_id: instance.id.clone(),
                    ok: false,
                    message: format!(
                        "belongs to cluster {cluster}: only {} may act on it",
                        operators.join(", ")
                    ),
                    state: None,
                })
            })
            .collect())
    }

    /// Subscribes to the live feed of `scope` (already resolved), starting its poller if
    /// nobody watched it yet: the whole list as the feed's subscribers know it, then the feed
    /// of what changes after.
    pub async fn watch(
        self: &Arc<Self>,
        scope: &Scope,
    ) -> Result<(InstanceChanges, Feed), ScopeError> {
        // Subscribe before reading the list, so no change falls between the two.
        let (feed, told) = self.feeds.subscribe(self, scope);
        let snapshot = self.snapshot(scope, false).await?;
        let first = told.first(
            &scope.region,
            || self.with_ssh(scope, &snapshot),
            &snapshot.fetched_at,
        );
        Ok((first, feed))
    }
}

/// The guard of `mutex`, also when a panic elsewhere poisoned it (what it guards stays whole).
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An instance of `state` at private address `ip`, for tests.
#[cfg(test)]
pub fn instance(id: &str, state: knit_shared::InstanceState, ip: &str) -> Instance {
    Instance {
        id: id.to_owned(),
        name: None,
        state,
        instance_type: "t3.micro".to_owned(),
        image_id: None,
        availability_zone: None,
        launch_time: None,
        public_ip: None,
        private_ip: Some(ip.to_owned()),
        public_dns: None,
        private_dns: None,
        key_name: None,
        security_groups: Vec::new(),
        monitoring: "disabled".to_owned(),
        lifecycle: "on-demand".to_owned(),
        platform: "Linux/UNIX".to_owned(),
        tags: BTreeMap::new(),
        ssh: None,
    }
}
