//! What the launch wizard chooses from, per profile and region.

use knit_shared::{ImageList, ImageQuery, InstanceTypeList, KeyPairList, ScopeQuery, SubnetList};

use super::Inventory;
use crate::ec2::{ScopeError, catalog};

/// Images listed at most; the search narrows the rest.
const IMAGE_LIMIT: usize = 100;

impl Inventory {
    /// Images of an owner matching the query's words and architecture, newest first.
    pub async fn images(&self, query: &ImageQuery) -> Result<ImageList, ScopeError> {
        let scope = self
            .hub
            .resolve(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let client = self.hub.client(&scope).await;
        let owner = query.owner.as_deref().unwrap_or("amazon");
        let mut images = catalog::describe_images(&client, &self.hub.target(&scope), owner).await?;
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
        let scope = self
            .hub
            .resolve(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let client = self.hub.client(&scope).await;
        let instance_types =
            catalog::describe_instance_types(&client, &self.hub.target(&scope)).await?;
        Ok(InstanceTypeList { instance_types })
    }

    pub async fn subnets(&self, query: &ScopeQuery) -> Result<SubnetList, ScopeError> {
        let scope = self
            .hub
            .resolve(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let client = self.hub.client(&scope).await;
        let subnets = catalog::describe_subnets(&client, &self.hub.target(&scope)).await?;
        Ok(SubnetList { subnets })
    }

    pub async fn key_pairs(&self, query: &ScopeQuery) -> Result<KeyPairList, ScopeError> {
        let scope = self
            .hub
            .resolve(query.profile.as_deref(), query.region.as_deref())
            .await?;
        let client = self.hub.client(&scope).await;
        let key_pairs = catalog::describe_key_pairs(&client, &self.hub.target(&scope)).await?;
        Ok(KeyPairList { key_pairs })
    }
}
