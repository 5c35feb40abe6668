//! One EC2 client per (profile, region), built on first use and kept.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use aws_sdk_ec2::Client;
use knit_shared::{Invalid, validate};

use crate::reach::Reach;

use super::{
    Ec2Error, Ec2Target, connect, profiles::configured_profiles, regions::describe_regions,
};

/// Where a request looks: a credentials profile (`None`: knit's own) and a region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub profile: Option<String>,
    pub region: String,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.profile {
            Some(profile) => write!(f, "{profile}/{}", self.region),
            None => f.write_str(&self.region),
        }
    }
}

#[derive(Debug)]
pub struct Ec2Hub {
    base: Ec2Target,
    /// The scope of requests that name neither profile nor region, and its client.
    default: tokio::sync::OnceCell<(Scope, Client)>,
    clients: Mutex<HashMap<Scope, Client>>,
    /// The account's regions, read once: they change when AWS opens a region, not per request.
    regions: tokio::sync::OnceCell<Vec<String>>,
    /// Where its instances' ports are dialled.
    reach: Reach,
}

/// Why a request's profile or region cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("region {0} is not one of this account's regions")]
    UnknownRegion(String),
    #[error(
        "profile {0} is not configured on the knit server (~/.aws/config or ~/.aws/credentials)"
    )]
    UnknownProfile(String),
    #[error("the sandbox uses no AWS profiles")]
    SandboxProfile,
    #[error(transparent)]
    Ec2(#[from] Ec2Error),
}

impl Ec2Hub {
    /// `default_client` serves `default_region` with the base target's profile: the scope of
    /// requests that name neither.
    pub fn new(base: Ec2Target, default_client: Client, default_region: String) -> Self {
        let scope = Scope {
            profile: base.profile.clone(),
            region: default_region,
        };
        let hub = Self::lazy(base);
        let _ = hub.default.set((scope, default_client));
        hub
    }

    /// The hub whose instances' ports are dialled through `reach` (the sandbox's machines).
    pub fn with_reach(mut self, reach: Reach) -> Self {
        self.reach = reach;
        self
    }

    /// Where its instances' ports are dialled.
    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// A hub that connects when first asked: a command line that may need no EC2 at all does
    /// not look for a region (which, off EC2, can wait on the metadata service).
    pub fn lazy(base: Ec2Target) -> Self {
        Self {
            base,
            default: tokio::sync::OnceCell::new(),
            clients: Mutex::new(HashMap::new()),
            regions: tokio::sync::OnceCell::new(),
            reach: Reach::default(),
        }
    }

    async fn default(&self) -> &(Scope, Client) {
        self.default
            .get_or_init(|| async {
                let (client, region) = connect(&self.base).await;
                let scope = Scope {
                    profile: self.base.profile.clone(),
                    region,
                };
                (scope, client)
            })
            .await
    }

    pub async fn default_region(&self) -> &str {
        &self.default().await.0.region
    }

    /// Profiles a request may name; none in the sandbox, whose credentials are dummies.
    pub fn profiles(&self) -> Vec<String> {
        if self.base.dummy_credentials {
            return Vec::new();
        }
        configured_profiles()
    }

    pub async fn regions(&self) -> Result<&[String], Ec2Error> {
        self.regions
            .get_or_try_init(|| async {
                describe_regions(&self.default().await.1, &self.base).await
            })
            .await
            .map(Vec::as_slice)
    }

    /// The scope a request names, each part defaulting to the server's, and checked.
    pub async fn resolve(
        &self,
        profile: Option<&str>,
        region: Option<&str>,
    ) -> Result<Scope, ScopeError> {
        let (default, _) = self.default().await;
        let profile = match profile {
            None => default.profile.clone(),
            Some(_) if self.base.dummy_credentials => return Err(ScopeError::SandboxProfile),
            Some(name) if self.profiles().iter().any(|known| known == name) => {
                Some(name.to_owned())
            }
            Some(name) => return Err(ScopeError::UnknownProfile(name.to_owned())),
        };
        let region = match region {
            None => default.region.clone(),
            Some(region) => {
                validate::region(region)?;
                if !self.regions().await?.iter().any(|known| known == region) {
                    return Err(ScopeError::UnknownRegion(region.to_owned()));
                }
                region.to_owned()
            }
        };
        Ok(Scope { profile, region })
    }

    /// The target behind a scope's client, for error messages and new clients.
    pub fn target(&self, scope: &Scope) -> Ec2Target {
        Ec2Target {
            profile: scope.profile.clone(),
            region: Some(scope.region.clone()),
            ..self.base.clone()
        }
    }

    /// The client of `scope`, which must come from `resolve`.
    pub async fn client(&self, scope: &Scope) -> Client {
        let (default, client) = self.default().await;
        if scope == default {
            return client.clone();
        }
        if let Some(client) = self.lock().get(scope) {
            return client.clone();
        }
        let (client, _) = connect(&self.target(scope)).await;
        self.lock().entry(scope.clone()).or_insert(client).clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Scope, Client>> {
        // A panic while holding this lock cannot leave the map half-written: recover it.
        self.clients
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
