//! One EC2 client per region, built on first use and kept.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_ec2::Client;
use knit_shared::{Invalid, validate};

use super::{Ec2Error, Ec2Target, connect, regions::describe_regions};

#[derive(Debug)]
pub struct Ec2Hub {
    base: Ec2Target,
    default_region: String,
    default_client: Client,
    clients: Mutex<HashMap<String, Client>>,
    /// The account's regions, read once: they change when AWS opens a region, not per request.
    regions: tokio::sync::OnceCell<Vec<String>>,
}

/// Why a region cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RegionError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("region {0} is not one of this account's regions")]
    Unknown(String),
    #[error(transparent)]
    Ec2(#[from] Ec2Error),
}

impl Ec2Hub {
    /// `default_client` serves `default_region`, the region requests get when they name none.
    pub fn new(base: Ec2Target, default_client: Client, default_region: String) -> Self {
        Self {
            base,
            default_region,
            default_client,
            clients: Mutex::new(HashMap::new()),
            regions: tokio::sync::OnceCell::new(),
        }
    }

    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// The target (profile, endpoint) behind every client, for error messages.
    pub fn target(&self) -> &Ec2Target {
        &self.base
    }

    pub async fn regions(&self) -> Result<&[String], Ec2Error> {
        self.regions
            .get_or_try_init(|| describe_regions(&self.default_client, &self.base))
            .await
            .map(Vec::as_slice)
    }

    /// The region a request names (or the default), checked against the account's regions.
    pub async fn resolve_region(&self, requested: Option<&str>) -> Result<String, RegionError> {
        let Some(region) = requested else {
            return Ok(self.default_region.clone());
        };
        validate::region(region)?;
        if !self.regions().await?.iter().any(|known| known == region) {
            return Err(RegionError::Unknown(region.to_owned()));
        }
        Ok(region.to_owned())
    }

    /// The client of `region`, which must come from `resolve_region`.
    pub async fn client(&self, region: &str) -> Client {
        if region == self.default_region {
            return self.default_client.clone();
        }
        if let Some(client) = self.lock().get(region) {
            return client.clone();
        }
        let target = Ec2Target {
            region: Some(region.to_owned()),
            ..self.base.clone()
        };
        let (client, _) = connect(&target).await;
        self.lock()
            .entry(region.to_owned())
            .or_insert(client)
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Client>> {
        // A panic while holding this lock cannot leave the map half-written: recover it.
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
