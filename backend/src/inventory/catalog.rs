//! What the launch wizard chooses from, per profile and region.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_ec2::primitives::DateTime;
use knit_shared::{
    ImageList, ImageQuery, InstanceProfileList, InstanceTypeList, KeyPairList, PriceSources,
    ScopeQuery, SubnetList,
};

use super::Inventory;
use crate::ec2::{Scope, ScopeError, catalog, instance_profiles, prices};

/// Images listed at most; the search narrows the rest.
const IMAGE_LIMIT: usize = 100;
/// How long a region's instance types and prices are reused: EC2 lists them in pages of 100
/// (seconds for all of them), types change rarely, and spot prices about hourly.
const TYPES_TTL: Duration = Duration::from_secs(10 * 60);

/// The instance type lists read lately, per scope.
#[derive(Debug, Default)]
pub struct TypeLists {
    // Held while EC2 is read, so a burst of requests reads it once.
    lists: tokio::sync::Mutex<HashMap<Scope, (Instant, InstanceTypeList)>>,
}

impl Inventory {
    /// Images of an owner matching the query's words and architecture, newest first.
    pub async fn images(&self, query: &ImageQuery) -> Result<ImageList, ScopeError> {
        let ec2 = self
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let owner = query.owner.as_deref().unwrap_or("amazon");
        let mut images = catalog::describe_images(&ec2.client, &ec2.target, owner).await?;
        let words: Vec<String> = query
            .q
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        images.retain(|image| {
            let text = format!("{} {} {}", image.id, image.name, image.description).to_lowercase();
            words.iter().all(|word| text.contains(word))
                && query
                    .arch
                    .as_deref()
                    .is_none_or(|arch| arch.is_empty() || image.architecture == arch)
        });
        images.sort_by(|a, b| b.creation_date.cmp(&a.creation_date));
        let total = images.len();
        images.truncate(IMAGE_LIMIT);
        Ok(ImageList { images, total })
    }

    pub async fn instance_types(&self, query: &ScopeQuery) -> Result<InstanceTypeList, ScopeError> {
        let ec2 = self
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let mut lists = self.type_lists.lists.lock().await;
        if let Some((read, list)) = lists.get(&ec2.scope)
            && read.elapsed() < TYPES_TTL
        {
            return Ok(list.clone());
        }
        // Both are long lists: read them at once.
        let (instance_types, spot) = tokio::join!(
            catalog::describe_instance_types(&ec2.client, &ec2.target),
            prices::spot(&ec2.client, &ec2.target)
        );
        let mut instance_types = instance_types?;
        // Types without a spot price are still types: a failed read only loses the prices.
        let (spot, spot_source) = match spot {
            Ok(spot) => {
                let read_at = crate::ec2::timestamp(&DateTime::from(std::time::SystemTime::now()));
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
        lists.insert(ec2.scope, (Instant::now(), list.clone()));
        Ok(list)
    }

    pub async fn subnets(&self, query: &ScopeQuery) -> Result<SubnetList, ScopeError> {
        let ec2 = self
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let subnets = catalog::describe_subnets(&ec2.client, &ec2.target).await?;
        Ok(SubnetList { subnets })
    }

    pub async fn instance_profiles(
        &self,
        query: &ScopeQuery,
    ) -> Result<InstanceProfileList, ScopeError> {
        let ec2 = self
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let instance_profiles = instance_profiles::list(&ec2.target).await?;
        Ok(InstanceProfileList { instance_profiles })
    }

    pub async fn key_pairs(&self, query: &ScopeQuery) -> Result<KeyPairList, ScopeError> {
        let ec2 = self
            .connect(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let key_pairs = catalog::describe_key_pairs(&ec2.client, &ec2.target).await?;
        Ok(KeyPairList { key_pairs })
    }
}
