//! Finding images (AMIs) the way a real region allows: EC2 filters the catalog, which holds
//! hundreds of thousands of public images, and knit reads pages only until it has an answer.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::Image;
use knit_shared::{IMAGE_LIMIT, ImageList, ImageQuery, ImageSummary};

use super::convert::filter;
use super::{Ec2Error, Ec2Target};

/// Images EC2 is asked for per page (its largest); filters leave fewer in a page.
const PAGE_SIZE: i32 = 1000;
/// Pages read at most for one search: sparse matches must not read the catalog.
const MAX_PAGES: usize = 5;

/// The available images matching `query`, newest first among those read.
pub async fn search(
    client: &Client,
    target: &Ec2Target,
    query: &ImageQuery,
) -> Result<ImageList, Ec2Error> {
    let mut request = client
        .describe_images()
        .filters(filter("state", ["available".to_owned()]))
        .include_deprecated(query.deprecated.unwrap_or(false));
    match query.owner.as_deref().unwrap_or("amazon") {
        "all" | "" => {}
        owner => request = request.owners(owner),
    }
    let q = query.q.as_deref().unwrap_or_default().trim();
    if q.starts_with("ami-") && !q.contains(char::is_whitespace) {
        request = request.filters(filter("image-id", [q.to_owned()]));
    } else if !q.is_empty() {
        request = request.filters(filter("name", name_patterns(q)));
    }
    for (name, value) in [
        ("architecture", &query.arch),
        ("root-device-type", &query.root_device),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            request = request.filters(filter(name, [value.to_owned()]));
        }
    }

    let mut pages = request.into_paginator().page_size(PAGE_SIZE).send();
    let mut images = Vec::new();
    let mut read = 0;
    let mut more = false;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Ec2Error::from_sdk(error, target))?;
        images.extend(page.images().iter().map(summary));
        read += 1;
        let last = page.next_token().is_none_or(str::is_empty);
        if !last && (images.len() >= IMAGE_LIMIT || read == MAX_PAGES) {
            more = true;
            break;
        }
    }
    images.sort_by(|a, b| b.creation_date.cmp(&a.creation_date));
    more |= images.len() > IMAGE_LIMIT;
    images.truncate(IMAGE_LIMIT);
    Ok(ImageList { images, more })
}

/// The images among `ids` that exist (an id EC2 does not know is left out, not an error).
pub async fn by_ids(
    client: &Client,
    target: &Ec2Target,
    ids: Vec<String>,
) -> Result<Vec<ImageSummary>, Ec2Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = client
        .describe_images()
        .filters(filter("image-id", ids))
        .include_deprecated(true)
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    Ok(found.images().iter().map(summary).collect())
}

/// EC2's name filter for a search. A pattern with `*` or `?` is used as typed; words must appear
/// in order. Name filters are case-sensitive, so the words are also tried in lower, upper and
/// title case (`ubuntu` finds `ubuntu/images/…` and `Ubuntu CUDA…`).
fn name_patterns(q: &str) -> Vec<String> {
    if q.contains(['*', '?']) {
        return vec![q.to_owned()];
    }
    let title = |word: &str| {
        let mut letters = word.chars();
        letters.next().map_or_else(String::new, |first| {
            first.to_uppercase().chain(letters).collect::<String>()
        })
    };
    let words: Vec<&str> = q.split_whitespace().collect();
    let spelled = [
        words.join("*"),
        words.join("*").to_lowercase(),
        words.join("*").to_uppercase(),
        words
            .iter()
            .map(|word| title(word))
            .collect::<Vec<_>>()
            .join("*"),
    ];
    let mut patterns: Vec<String> = Vec::new();
    for words in spelled {
        let pattern = format!("*{words}*");
        if !patterns.contains(&pattern) {
            patterns.push(pattern);
        }
    }
    patterns
}

fn summary(image: &Image) -> ImageSummary {
    ImageSummary {
        id: image.image_id().unwrap_or_default().to_owned(),
        name: image.name().unwrap_or_default().to_owned(),
        description: image.description().unwrap_or_default().to_owned(),
        owner: image
            .image_owner_alias()
            .or(image.owner_id())
            .unwrap_or_default()
            .to_owned(),
        architecture: image.architecture().map_or("", |a| a.as_str()).to_owned(),
        platform: image.platform_details().unwrap_or("Linux/UNIX").to_owned(),
        root_device_type: image
            .root_device_type()
            .map_or("", |r| r.as_str())
            .to_owned(),
        virtualization: image
            .virtualization_type()
            .map_or("", |v| v.as_str())
            .to_owned(),
        creation_date: image.creation_date().unwrap_or_default().to_owned(),
        deprecation_time: image.deprecation_time().map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::name_patterns;

    #[test]
    fn words_become_name_patterns_in_each_common_case() {
        assert_eq!(
            name_patterns("ubuntu 24.04"),
            ["*ubuntu*24.04*", "*UBUNTU*24.04*", "*Ubuntu*24.04*"]
        );
        assert_eq!(
            name_patterns("Deep learning"),
            [
                "*Deep*learning*",
                "*deep*learning*",
                "*DEEP*LEARNING*",
                "*Deep*Learning*"
            ]
        );
        assert_eq!(name_patterns("debian-12-*-arm64"), ["debian-12-*-arm64"]);
    }
}
