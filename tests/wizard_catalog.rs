//! The wizard's reads at a real account's scale, against moto: image searches that EC2's
//! filters answer (seen by an interceptor on the real SDK client), the quick start from the
//! public parameters, and new groups made in the VPC the instances go in.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{Filter, Image};
use futures_util::{StreamExt, stream};
use knit::ec2::Ec2Target;
use knit_shared::{ApiErrorBody, ImageList, NewGroup, NewRule, QuickStartList, WizardRequest};

use crate::harness::{
    Browser, ImageReads, KnitServer, app_with, built_console, dummy_web_dir, moto_client,
    moto_target, send, start_moto,
};

/// Images the test registers, beside the 1,300 public ones moto ships in us-east-1.
const REGISTERED: usize = 2000;

/// Registers `REGISTERED` images of the test's own account: builds of other things, and a few
/// of "shop web" spelled as people spell it.
async fn register_images(ec2: &aws_sdk_ec2::Client) -> BTreeSet<String> {
    let mut names: Vec<String> = (0..REGISTERED - 7)
        .map(|i| format!("batch-worker-{i:04}"))
        .collect();
    names.extend((0..5).map(|i| format!("shop-web-1.0.{i}")));
    names.extend((0..2).map(|i| format!("Shop-Web-legacy-{i}")));
    let registered: Vec<(String, String)> = stream::iter(names)
        .map(|name| async move {
            let id = ec2
                .register_image()
                .name(&name)
                .send()
                .await
                .expect("image registered")
                .image_id()
                .expect("id")
                .to_owned();
            (name, id)
        })
        .buffer_unordered(16)
        .collect()
        .await;
    registered
        .into_iter()
        .filter(|(name, _)| name.to_lowercase().starts_with("shop-web"))
        .map(|(_, id)| id)
        .collect()
}

/// Every available image of the region, read whole by the test: what a search must agree with.
async fn every_image(ec2: &aws_sdk_ec2::Client) -> Vec<Image> {
    ec2.describe_images()
        .filters(Filter::builder().name("state").values("available").build())
        .send()
        .await
        .expect("images")
        .images()
        .to_vec()
}

async fn search(app: &axum::Router, query: &str) -> ImageList {
    let (status, _, body) = send(app.clone(), "GET", &format!("/api/images?{query}")).await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(status, 200, "{query}: {text}");
    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{query}: {e}: {text}"))
}

fn ids(list: &ImageList) -> BTreeSet<String> {
    list.images.iter().map(|image| image.id.clone()).collect()
}

#[tokio::test]
async fn image_searches_run_in_ec2_and_read_only_what_matches() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let ec2 = moto_client(&moto, "us-east-1").await;
    let shop_web = register_images(&ec2).await;
    let all = every_image(&ec2).await;
    assert!(all.len() > 3000, "the region holds {} images", all.len());
    let owners: BTreeSet<&str> = all.iter().filter_map(Image::owner_id).collect();
    assert!(owners.len() > 3, "images of several owners: {owners:?}");

    let reads = ImageReads::new();
    let target = Ec2Target {
        interceptors: vec![reads.interceptor()],
        ..moto_target(&moto, "us-east-1")
    };
    let app = app_with(dir.path(), target).await;

    // Words find names in each common spelling, in the account's own images.
    let found = search(&app, "owner=self&q=shop+web").await;
    assert_eq!(ids(&found), shop_web);
    assert!(!found.more);
    let pages = reads.take();
    assert_eq!(pages.len(), 1, "one page: {pages:?}");
    assert_eq!(pages[0].owners, ["self"]);
    assert_eq!(pages[0].max_results, Some(1000));
    assert!(
        pages[0]
            .filters
            .iter()
            .any(|f| f.starts_with("name=*shop*web*|")),
        "{pages:?}"
    );
    assert_eq!(pages[0].images, 7, "EC2 answered with the matches only");

    // Public images of every owner, by name and architecture, agree with the whole catalog.
    let found = search(&app, "owner=all&q=ubuntu&arch=x86_64").await;
    let expected: BTreeSet<String> = all
        .iter()
        .filter(|image| {
            let name = image.name().unwrap_or_default();
            ["ubuntu", "Ubuntu", "UBUNTU"]
                .iter()
                .any(|word| name.contains(word))
                && image.architecture().map(|a| a.as_str()) == Some("x86_64")
        })
        .filter_map(|image| image.image_id().map(str::to_owned))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ids(&found), expected);
    let pages = reads.take();
    assert_eq!(pages.len(), 1);
    assert!(pages[0].owners.is_empty(), "all owners: {pages:?}");
    assert!(pages[0].filters.contains(&"architecture=x86_64".to_owned()));
    assert_eq!(pages[0].images, expected.len());

    // The root device is a filter, not only a column.
    let found = search(&app, "owner=all&root_device=instance-store").await;
    let expected: BTreeSet<String> = all
        .iter()
        .filter(|image| image.root_device_type().map(|r| r.as_str()) == Some("instance-store"))
        .filter_map(|image| image.image_id().map(str::to_owned))
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(ids(&found), expected);
    assert!(
        found
            .images
            .iter()
            .all(|image| image.root_device_type == "instance-store")
    );
    let pages = reads.take();
    assert!(
        pages[0]
            .filters
            .contains(&"root-device-type=instance-store".to_owned())
    );

    // A search matching thousands answers with a bounded page and says there is more.
    let found = search(&app, "owner=self").await;
    assert_eq!(found.images.len(), knit_shared::IMAGE_LIMIT);
    assert!(found.more);
    reads.take();

    // A bad search is refused with what to change, before EC2 is asked.
    let (status, _, body) = send(app.clone(), "GET", "/api/images?owner=canonical").await;
    assert_eq!(status, 400);
    let error: ApiErrorBody = serde_json::from_slice(&body).expect("error JSON");
    assert!(error.error.starts_with("owner: "), "{}", error.error);
    assert!(reads.take().is_empty(), "EC2 was not asked");
}

#[tokio::test]
async fn the_quick_start_names_the_images_the_region_publishes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let app = app_with(dir.path(), moto_target(&moto, "us-east-1")).await;
    let (status, _, body) = send(app.clone(), "GET", "/api/images/quick-start").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let list: QuickStartList = serde_json::from_slice(&body).expect("quick start JSON");
    let labels: BTreeSet<&str> = list.images.iter().map(|i| i.label.as_str()).collect();
    assert_eq!(
        labels,
        BTreeSet::from([
            "Amazon Linux 2023",
            "Debian 12",
            "Ubuntu 22.04 LTS",
            "Ubuntu 24.04 LTS"
        ])
    );

    // Each entry names the image its parameter names today, or none where the region (here,
    // moto) publishes no such parameter.
    let ssm = knit::ec2::ssm(&moto_target(&moto, "us-east-1")).await;
    let mut resolved = 0;
    for entry in &list.images {
        let published = ssm
            .get_parameters()
            .names(&entry.parameter)
            .send()
            .await
            .expect("parameters")
            .parameters()
            .first()
            .and_then(|p| p.value().map(str::to_owned));
        let shown = entry.image.as_ref().map(|image| image.id.clone());
        assert_eq!(shown, published, "{}", entry.parameter);
        if let Some(image) = &entry.image {
            resolved += 1;
            assert_eq!(
                image.architecture, entry.architecture,
                "{}",
                entry.parameter
            );
            // "All versions" finds the current one among them.
            let query = format!(
                "owner={}&arch={}&q={}",
                entry.search.owner.as_deref().unwrap_or_default(),
                entry.search.arch.as_deref().unwrap_or_default(),
                entry
                    .search
                    .q
                    .as_deref()
                    .unwrap_or_default()
                    .replace('/', "%2F")
            );
            let versions = search(&app, &query).await;
            assert!(
                versions.images.iter().any(|v| v.id == image.id),
                "{query} lacks {}",
                image.id
            );
        }
    }
    let amazon_linux = list
        .images
        .iter()
        .filter(|i| i.label == "Amazon Linux 2023" && i.image.is_some())
        .count();
    assert_eq!(
        amazon_linux, 2,
        "moto publishes Amazon Linux 2023 for both architectures"
    );
    assert!(resolved >= 2);
}

fn launch_request(token: &str, region: &str, subnet: Option<String>) -> WizardRequest {
    WizardRequest {
        region: Some(region.to_owned()),
        image_id: "ami-12c6146b".to_owned(),
        instance_type: "t3.micro".to_owned(),
        count: 1,
        subnet_id: subnet,
        tags: vec![("Name".to_owned(), token.to_owned())],
        new_group: Some(NewGroup {
            name: format!("group-{token}"),
            rules: vec![NewRule {
                protocol: "tcp".to_owned(),
                ports: "443".to_owned(),
                source: "0.0.0.0/0".to_owned(),
            }],
        }),
        no_key_acknowledged: true,
        client_token: token.to_owned(),
        ..WizardRequest::default()
    }
}

/// A new VPC with one subnet in `region`: (VPC id, subnet id).
async fn second_vpc(ec2: &aws_sdk_ec2::Client, zone: &str) -> (String, String) {
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.77.0.0/16")
        .send()
        .await
        .expect("VPC");
    let vpc = vpc
        .vpc()
        .and_then(|v| v.vpc_id())
        .expect("VPC id")
        .to_owned();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.77.1.0/24")
        .availability_zone(zone)
        .send()
        .await
        .expect("subnet");
    let subnet = subnet
        .subnet()
        .and_then(|s| s.subnet_id())
        .expect("subnet id")
        .to_owned();
    (vpc, subnet)
}

async fn group_vpc(ec2: &aws_sdk_ec2::Client, name: &str) -> Option<String> {
    ec2.describe_security_groups()
        .filters(Filter::builder().name("group-name").values(name).build())
        .send()
        .await
        .expect("groups")
        .security_groups()
        .first()
        .and_then(|g| g.vpc_id().map(str::to_owned))
}

async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: ApiErrorBody = response.json().await.expect("error JSON");
    (status, body.error)
}

#[tokio::test]
async fn a_new_group_is_made_in_the_vpc_the_instances_go_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let ec2 = moto_client(&moto, "us-east-1").await;
    let (vpc, subnet) = second_vpc(&ec2, "us-east-1a").await;
    let server = KnitServer::on_moto(
        &dir.path().join("data"),
        &moto,
        &dummy_web_dir(dir.path()),
        &[],
    );

    let answer = server
        .post(
            "/wizard/launch",
            &launch_request("second", "us-east-1", Some(subnet.clone())),
        )
        .await;
    assert_eq!(
        answer.status(),
        201,
        "{}",
        answer.text().await.unwrap_or_default()
    );
    assert_eq!(group_vpc(&ec2, "group-second").await, Some(vpc.clone()));

    // Only that VPC's groups are offered for it.
    let listed: knit_shared::SecurityGroupList = server
        .get_json(&format!("/security-groups?vpc_id={vpc}"))
        .await;
    assert!(!listed.groups.is_empty());
    assert!(
        listed
            .groups
            .iter()
            .all(|g| g.vpc_id.as_deref() == Some(vpc.as_str())),
        "{listed:?}"
    );
    assert!(listed.groups.iter().any(|g| g.name == "group-second"));

    // Without a subnet, the default VPC; a group of the second VPC cannot go there.
    let answer = server
        .post(
            "/wizard/launch",
            &launch_request("default", "us-east-1", None),
        )
        .await;
    assert_eq!(
        answer.status(),
        201,
        "{}",
        answer.text().await.unwrap_or_default()
    );
    let default_vpc = group_vpc(&ec2, "group-default").await.expect("VPC");
    assert_ne!(default_vpc, vpc);
    let mut mixed = launch_request("mixed", "us-east-1", None);
    mixed.security_groups = listed
        .groups
        .iter()
        .filter(|g| g.name == "group-second")
        .map(|g| g.id.clone())
        .collect();
    let (status, message) = refusal(server.post("/wizard/check", &mixed).await).await;
    assert_eq!(status, 400);
    assert!(
        message.starts_with("security_groups: group-second (sg-")
            && message.contains(&format!(
                "is in {vpc} and the instances go in {default_vpc}"
            )),
        "{message}"
    );
    assert_eq!(group_vpc(&ec2, "group-mixed").await, None, "nothing made");
}

/// Deletes the region's default VPC, as some accounts have.
async fn without_default_vpc(ec2: &aws_sdk_ec2::Client) {
    let vpcs = ec2.describe_vpcs().send().await.expect("VPCs");
    let default = vpcs.vpcs()[0].vpc_id().expect("id").to_owned();
    let subnets = ec2.describe_subnets().send().await.expect("subnets");
    for subnet in subnets.subnets() {
        ec2.delete_subnet()
            .subnet_id(subnet.subnet_id().expect("id"))
            .send()
            .await
            .expect("subnet deleted");
    }
    let gateways = ec2.describe_internet_gateways().send().await.expect("IGWs");
    for gateway in gateways.internet_gateways() {
        let id = gateway.internet_gateway_id().expect("id");
        ec2.detach_internet_gateway()
            .internet_gateway_id(id)
            .vpc_id(&default)
            .send()
            .await
            .expect("detached");
        ec2.delete_internet_gateway()
            .internet_gateway_id(id)
            .send()
            .await
            .expect("deleted");
    }
    ec2.delete_vpc()
        .vpc_id(&default)
        .send()
        .await
        .expect("VPC deleted");
}

#[tokio::test]
async fn a_region_without_a_default_vpc_needs_a_subnet() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let region = "eu-west-3";
    let ec2 = moto_client(&moto, region).await;
    without_default_vpc(&ec2).await;
    let server = KnitServer::on_moto(
        &dir.path().join("data"),
        &moto,
        &dummy_web_dir(dir.path()),
        &[],
    );
    let image = ec2
        .register_image()
        .name("paris-image")
        .send()
        .await
        .expect("image")
        .image_id()
        .expect("id")
        .to_owned();

    let mut request = launch_request("paris", region, None);
    request.image_id = image;
    let (status, message) = refusal(server.post("/wizard/check", &request).await).await;
    assert_eq!(status, 400);
    assert_eq!(
        message,
        "subnet_id: eu-west-3 has no default VPC; choose a subnet, which also says the VPC the \
         instances go in"
    );

    let (vpc, subnet) = second_vpc(&ec2, "eu-west-3a").await;
    request.subnet_id = Some(subnet);
    let answer = server.post("/wizard/launch", &request).await;
    assert_eq!(
        answer.status(),
        201,
        "{}",
        answer.text().await.unwrap_or_default()
    );
    assert_eq!(group_vpc(&ec2, "group-paris").await, Some(vpc));
}

#[tokio::test]
async fn the_wizard_asks_for_a_subnet_and_offers_its_vpcs_groups() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let ec2 = moto_client(&moto, "eu-west-3").await;
    without_default_vpc(&ec2).await;
    let (vpc, subnet) = second_vpc(&ec2, "eu-west-3a").await;
    ec2.create_security_group()
        .group_name("paris-web")
        .description("web")
        .vpc_id(&vpc)
        .send()
        .await
        .expect("group");
    let server = KnitServer::on_moto(
        &dir.path().join("data"),
        &moto,
        &built_console(),
        &["--region", "eu-west-3"],
    );
    let browser = Browser::start().await;
    browser.sign_in(&server).await;

    browser
        .open(&format!("{}/wizard/configure", server.url))
        .await;
    browser
        .wait_for_text_containing("#subnet-needed", "no default VPC")
        .await;
    browser.select("#subnet", &subnet).await;
    browser.wait_for_gone("#subnet-needed").await;
    browser
        .click(".wizard-steps a[href=\"/wizard/network\"]")
        .await;
    browser.wait_for_text_containing("#network-vpc", &vpc).await;
    browser
        .wait_for_element("#group-choices input[data-group=\"paris-web\"]")
        .await;
    browser
        .click(".wizard-steps a[href=\"/wizard/review\"]")
        .await;
    browser.wait_for_text("#review-vpc", &vpc).await;
    browser.close().await;
}
