//! From aws-sdk-ec2's types to the console's (`knit_shared`).

use std::collections::BTreeMap;

use aws_sdk_ec2::primitives::{DateTime, DateTimeFormat};
use aws_sdk_ec2::types as aws;
use knit_shared::{GroupRef, Instance, InstanceState};

/// An EC2 filter: `name` matching any of `values` (`*` and `?` as wildcards where EC2 allows).
pub fn filter(name: &str, values: impl IntoIterator<Item = String>) -> aws::Filter {
    aws::Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().collect()))
        .build()
}

pub fn instance(from: &aws::Instance) -> Instance {
    let tags: BTreeMap<String, String> = from
        .tags()
        .iter()
        .filter_map(|tag| Some((tag.key()?.to_owned(), tag.value().unwrap_or("").to_owned())))
        .collect();
    Instance {
        id: from.instance_id().unwrap_or_default().to_owned(),
        name: tags.get("Name").cloned(),
        state: from
            .state()
            .and_then(|state| state.name())
            .map_or(InstanceState::Unknown, |name| {
                InstanceState::parse(name.as_str())
            }),
        instance_type: from
            .instance_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        image_id: owned(from.image_id()),
        availability_zone: owned(from.placement().and_then(|p| p.availability_zone())),
        launch_time: from.launch_time().map(timestamp),
        public_ip: owned(from.public_ip_address()),
        private_ip: owned(from.private_ip_address()),
        public_dns: owned(from.public_dns_name()),
        private_dns: owned(from.private_dns_name()),
        key_name: owned(from.key_name()),
        security_groups: from
            .security_groups()
            .iter()
            .map(|group| GroupRef {
                id: group.group_id().unwrap_or_default().to_owned(),
                name: group.group_name().unwrap_or_default().to_owned(),
            })
            .collect(),
        monitoring: from
            .monitoring()
            .and_then(|m| m.state())
            .map_or_else(|| "disabled".to_owned(), |s| s.as_str().to_owned()),
        lifecycle: from
            .instance_lifecycle()
            .map_or_else(|| "on-demand".to_owned(), |l| l.as_str().to_owned()),
        platform: from
            .platform_details()
            .map(str::to_owned)
            .or_else(|| from.platform().map(|p| p.as_str().to_owned()))
            .unwrap_or_else(|| "Linux/UNIX".to_owned()),
        tags,
        ssh: None,
    }
}

/// RFC 3339 in UTC, e.g. `2026-11-23T10:00:00Z`.
pub fn timestamp(at: &DateTime) -> String {
    at.fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| at.secs().to_string())
}

/// Empty strings, which EC2 uses for "none" in some fields, become `None`.
fn owned(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}
