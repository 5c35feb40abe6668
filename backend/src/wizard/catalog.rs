//! What the wizard chooses from, per profile and region.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_ec2::primitives::DateTime;
use knit_shared::{
    ImageList, ImageQuery, InstanceProfileList, InstanceTypeList, KeyPairList, PriceSources,
    QuickStartList, ScopeQuery, SubnetList,
};

use super::Wizard;
use crate::ec2::{
    Scope, ScopeError, catalog, images, instance_profiles, prices, quick_start, run_instances,
};

/// How long a region's instance types and prices are reused: EC2 lists them in pages of 100
/// (seconds for all of them), types change rarely, and spot prices about hourly.
const TYPES_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a region's quick start images are reused: distributions publish new builds every
/// few days to weeks.
const QUICK_START_TTL: Duration = Duration::from_secs(60 * 60);

/// Lists read lately, per scope, reused while they are young.
#[derive(Debug)]
pub struct Lately<T> {
    // Held while EC2 is read, so a burst of requests reads it once.
    lists: tokio::sync::Mutex<HashMap<Scope, (Instant, T)>>,
}

impl<T> Default for Lately<T> {
    fn default() -> Self {
        Self {
            lists: Default::default(),
        }
    }
}

impl<T: Clone> Lately<T> {
    /// `scope`'s list if read within `ttl`, or what `read` reads now.
    async fn get<E>(
        &self,
        scope: &Scope,
        ttl: Duration,
        read: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let mut lists = self.lists.lock().await;
        if let Some((at, list)) = lists.get(scope)
            && at.elapsed() < ttl
        {
            return Ok(list.clone());
        }
        let list = read.await?;
        lists.insert(scope.clone(), (Instant::now(), list.clone()));
        Ok(list)
    }
}

impl Wizard {
    /// Images matching the query, searched by EC2's filters.
    pub async fn images(&self, query: &ImageQuery) -> Result<ImageList, ScopeError> {
        query.check()?;
        let ec2 = self
            .inventory
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        Ok(images::search(&ec2.client, &ec2.target, query).await?)
    }

    /// The current images of the common distributions in the scope's region.
    pub async fn quick_start(&self, query: &ScopeQuery) -> Result<QuickStartList, ScopeError> {
        let ec2 = self
            .inventory
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let read = async {
            let images = quick_start::resolve(&ec2.client, &ec2.target).await?;
            Ok::<_, ScopeError>(QuickStartList { images })
        };
        self.quick_starts
            .get(&ec2.scope, QUICK_START_TTL, read)
            .await
    }

    pub async fn instance_types(&self, query: &ScopeQuery) -> Result<InstanceTypeList, ScopeError> {
        let ec2 = self
            .inventory
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let read = async {
            // Both are long lists: read them at once.
            let (instance_types, spot) = tokio::join!(
                catalog::describe_instance_types(&ec2.client, &ec2.target),
                prices::spot(&ec2.client, &ec2.target)
            );
            let mut instance_types = instance_types?;
            // Types without a spot price are still types: a failed read only loses the prices.
            let (spot, spot_source) = match spot {
                Ok(spot) => {
                    let read_at =
                        crate::ec2::timestamp(&DateTime::from(std::time::SystemTime::now()));
                    let source = format!(
                        "EC2's spot price history in {}, read {read_at}",
                        ec2.scope.region
                    );
                    (spot, source)
                }
                Err(error) => (Default::default(), format!("not available: {error}")),
            };
            for kind in &mut instance_types {
                kind.on_demand_hourly = prices::on_demand(&kind.name).map(str::to_owned);
                kind.spot_hourly = spot.get(&kind.name).cloned();
            }
            let list = InstanceTypeList {
                instance_types,
                prices: PriceSources {
                    on_demand: prices::ON_DEMAND_SOURCE.to_owned(),
                    spot: spot_source,
                },
            };
            Ok::<_, ScopeError>(list)
        };
        self.type_lists.get(&ec2.scope, TYPES_TTL, read).await
    }

    pub async fn subnets(&self, query: &ScopeQuery) -> Result<SubnetList, ScopeError> {
        let ec2 = self
            .inventory
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let (subnets, default_vpc) = tokio::join!(
            catalog::describe_subnets(&ec2.client, &ec2.target),
            run_instances::default_vpc(&ec2.client, &ec2.target)
        );
        Ok(SubnetList {
            subnets: subnets?,
            default_vpc: default_vpc?,
        })
    }

    pub async fn instance_profiles(
        &self,
        query: &ScopeQuery,
    ) -> Result<InstanceProfileList, ScopeError> {
        let ec2 = self
            .inventory
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let instance_profiles = instance_profiles::list(&ec2.target).await?;
        Ok(InstanceProfileList { instance_profiles })
    }

    pub async fn key_pairs(&self, query: &ScopeQuery) -> Result<KeyPairList, ScopeError> {
        let ec2 = self
            .inventory
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let key_pairs = catalog::describe_key_pairs(&ec2.client, &ec2.target).await?;
        Ok(KeyPairList { key_pairs })
    }
}
