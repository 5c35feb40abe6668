//! Instances per scope, read from EC2 once and shared until they are a few seconds old.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::DateTime;
use knit_shared::Instance;

use crate::ec2::{self, Ec2Error, Ec2Target, Scope};

/// Every instance of a region as EC2 listed them at one moment.
#[derive(Debug)]
pub struct Snapshot {
    pub instances: Vec<Instance>,
    /// RFC 3339.
    pub fetched_at: String,
    read_at: Instant,
}

/// One slot per scope. A slot's async lock is held while EC2 is read, so concurrent requests
/// for a cold scope wait for one read instead of each making their own.
type Slot = Arc<tokio::sync::Mutex<Option<Arc<Snapshot>>>>;

#[derive(Debug)]
pub struct Cache {
    ttl: Duration,
    page_size: i32,
    slots: Mutex<HashMap<Scope, Slot>>,
}

impl Cache {
    pub fn new(ttl: Duration, page_size: i32) -> Self {
        Self {
            ttl,
            page_size,
            slots: Mutex::new(HashMap::new()),
        }
    }

    pub async fn get(
        &self,
        scope: &Scope,
        refresh: bool,
        client: &Client,
        target: &Ec2Target,
    ) -> Result<Arc<Snapshot>, Ec2Error> {
        let slot = self.slot(scope);
        let mut cached = slot.lock().await;
        if let Some(snapshot) = cached.as_ref()
            && !refresh
            && snapshot.read_at.elapsed() < self.ttl
        {
            return Ok(Arc::clone(snapshot));
        }
        let instances = ec2::describe_all(client, target, self.page_size).await?;
        let snapshot = Arc::new(Snapshot {
            instances,
            fetched_at: ec2::timestamp(&DateTime::from(std::time::SystemTime::now())),
            read_at: Instant::now(),
        });
        *cached = Some(Arc::clone(&snapshot));
        Ok(snapshot)
    }

    pub async fn forget(&self, scope: &Scope) {
        *self.slot(scope).lock().await = None;
    }

    fn slot(&self, scope: &Scope) -> Slot {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(slots.entry(scope.clone()).or_default())
    }
}
