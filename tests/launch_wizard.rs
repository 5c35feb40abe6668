//! `POST /api/wizard/launch`, the wizard's last step, against moto: what it launches, once per client
//! token, and every kind of bad input refused by the server even when the browser is bypassed.

use aws_sdk_ec2::types::Filter;
use knit_shared::{ApiErrorBody, NewGroup, NewKey, NewRule, WizardLaunched, WizardRequest};

use fantoccini::Locator;

use aws_sdk_ec2::types::InstanceAttributeName;

use crate::harness::{
    Browser, KnitServer, built_console, dummy_web_dir, inbound_cidrs, moto_client, moto_iam,
    start_moto,
};

fn request(token: &str) -> WizardRequest {
    let rule = |ports: &str, source: &str| NewRule {
        protocol: "tcp".to_owned(),
        ports: ports.to_owned(),
        source: source.to_owned(),
    };
    WizardRequest {
        region: Some("us-east-1".to_owned()),
        image_id: "ami-12c6146b".to_owned(),
        instance_type: "t3.micro".to_owned(),
        count: 2,
        detailed_monitoring: true,
        zone: Some("us-east-1b".to_owned()),
        terminate_on_shutdown: true,
        termination_protection: true,
        tags: vec![
            ("Name".to_owned(), "wizard-web".to_owned()),
            ("Team".to_owned(), "shop".to_owned()),
        ],
        user_data: "#!/bin/sh\necho hello\n".to_owned(),
        new_group: Some(NewGroup {
            name: format!("wizard-{token}"),
            rules: vec![rule("443", "0.0.0.0/0"), rule("22", "198.51.100.0/24")],
        }),
        key_name: Some("knit-test".to_owned()),
        client_token: token.to_owned(),
        ..WizardRequest::default()
    }
}

/// What a launch of two t3.micro with key `key`, tags Name and Team=shop (on instances and
/// volumes), detailed monitoring and a new group (port `open` from anywhere, 22 from
/// 198.51.100.0/24) made.
struct Launched<'a> {
    name: &'a str,
    image: &'a str,
    group: &'a str,
    zone: &'a str,
    key: &'a str,
    /// The IAM instance profile's name, if one was chosen.
    profile: Option<&'a str>,
    open: i32,
}

/// Checks in EC2 that the instances named `expected.name` are what was asked; returns them.
async fn assert_launched(
    ec2: &aws_sdk_ec2::Client,
    expected: &Launched<'_>,
) -> Vec<aws_sdk_ec2::types::Instance> {
    let found = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("tag:Name")
                .values(expected.name)
                .build(),
        )
        .send()
        .await
        .expect("instances");
    let instances: Vec<_> = found
        .reservations()
        .iter()
        .flat_map(|r| r.instances().iter().cloned())
        .collect();
    assert_eq!(instances.len(), 2);
    let group = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values(expected.group)
                .build(),
        )
        .send()
        .await
        .expect("group");
    let group = &group.security_groups()[0];
    for instance in &instances {
        assert_eq!(instance.image_id(), Some(expected.image));
        assert_eq!(
            instance.instance_type().map(|t| t.as_str()),
            Some("t3.micro")
        );
        assert_eq!(instance.key_name(), Some(expected.key));
        assert_eq!(instance.security_groups()[0].group_id(), group.group_id());
        assert!(
            instance
                .tags()
                .iter()
                .any(|t| t.key() == Some("Team") && t.value() == Some("shop"))
        );
        let monitoring = instance
            .monitoring()
            .and_then(|m| m.state())
            .map(|s| s.as_str());
        assert_eq!(monitoring, Some("enabled"));
        let zone = instance.placement().and_then(|p| p.availability_zone());
        assert_eq!(zone, Some(expected.zone));
        let volumes = ec2
            .describe_volumes()
            .filters(
                Filter::builder()
                    .name("attachment.instance-id")
                    .values(instance.instance_id().expect("id"))
                    .build(),
            )
            .send()
            .await
            .expect("volumes");
        assert!(!volumes.volumes().is_empty());
        for volume in volumes.volumes() {
            assert!(
                volume
                    .tags()
                    .iter()
                    .any(|t| t.key() == Some("Team") && t.value() == Some("shop")),
                "the volume is tagged too: {volume:?}"
            );
        }
    }
    let ids: Vec<&str> = instances.iter().filter_map(|i| i.instance_id()).collect();
    assert_eq!(
        profiles_of(ec2, &ids).await,
        expected
            .profile
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    );
    assert_eq!(
        inbound_cidrs(group),
        [
            (22, "198.51.100.0/24".to_owned()),
            (expected.open, "0.0.0.0/0".to_owned())
        ]
    );
    instances
}

/// A new ed25519 public key, made by ssh-keygen in `dir`.
fn public_key(dir: &std::path::Path) -> String {
    let path = dir.join("imported");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "ada@laptop", "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs");
    assert!(made.success());
    std::fs::read_to_string(path.with_extension("pub")).expect("public key")
}

/// Names of the instance profiles associated with any of instances `ids`. (moto associates the
/// profile of a launch with its first instance only; EC2 with each.)
async fn profiles_of(ec2: &aws_sdk_ec2::Client, ids: &[&str]) -> Vec<String> {
    let associations = ec2
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .expect("associations");
    let mut names: Vec<String> = associations
        .iam_instance_profile_associations()
        .iter()
        .filter(|a| a.instance_id().is_some_and(|id| ids.contains(&id)))
        .filter_map(|a| a.iam_instance_profile()?.arn()?.rsplit('/').next())
        .map(str::to_owned)
        .collect();
    names.dedup();
    names
}

async fn launch(server: &KnitServer, request: &WizardRequest) -> reqwest::Response {
    server
        .client()
        .post(server.api("/wizard/launch"))
        .json(request)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn the_wizard_launches_once_per_token_and_refuses_bad_input_with_a_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let web = dummy_web_dir(dir.path());
    let server = KnitServer::on_moto(&dir.path().join("data"), &moto, &web, &[]);

    let good = request("first");
    let answer = launch(&server, &good).await;
    let status = answer.status();
    let body = answer.text().await.expect("body");
    assert_eq!(status, 201, "{body}");
    let answer: WizardLaunched = serde_json::from_str(&body).expect("response JSON");
    let launched = answer;
    assert_eq!(launched.instance_ids.len(), 2);
    assert!(!launched.repeated);
    assert!(launched.created[0].starts_with("security group wizard-first (sg-"));

    // In EC2: the AMI, type, tags, key, zone, the new group with exactly its two rules.
    let ec2 = moto_client(&moto, "us-east-1").await;
    let instances = assert_launched(
        &ec2,
        &Launched {
            name: "wizard-web",
            image: "ami-12c6146b",
            group: "wizard-first",
            zone: "us-east-1b",
            key: "knit-test",
            profile: None,
            open: 443,
        },
    )
    .await;
    // Termination protection and the shutdown behaviour, as asked.
    for instance in &instances {
        let id = instance.instance_id().expect("id");
        let attribute = |name| {
            ec2.describe_instance_attribute()
                .instance_id(id)
                .attribute(name)
                .send()
        };
        let protection = attribute(InstanceAttributeName::DisableApiTermination)
            .await
            .expect("attribute");
        assert_eq!(
            protection.disable_api_termination().and_then(|v| v.value()),
            Some(true)
        );
        let shutdown = attribute(InstanceAttributeName::InstanceInitiatedShutdownBehavior)
            .await
            .expect("attribute");
        assert_eq!(
            shutdown
                .instance_initiated_shutdown_behavior()
                .and_then(|v| v.value()),
            Some("terminate")
        );
    }

    // The same token again: the same instances, nothing new.
    let again = launch(&server, &good).await;
    assert_eq!(again.status(), 200);
    let again: WizardLaunched = again.json().await.expect("response JSON");
    assert!(again.repeated);
    assert_eq!(again.instance_ids, launched.instance_ids);
    let all = ec2.describe_instances().send().await.expect("instances");
    let count: usize = all.reservations().iter().map(|r| r.instances().len()).sum();
    assert_eq!(count, 2, "a repeated token launches nothing");

    // An imported public key, a chosen subnet, spot, and the group made by the first launch.
    let subnets = ec2.describe_subnets().send().await.expect("subnets");
    let subnet = subnets
        .subnets()
        .iter()
        .find(|s| s.availability_zone() == Some("us-east-1d"))
        .expect("a subnet in us-east-1d");
    let group_id = instances[0].security_groups()[0]
        .group_id()
        .expect("group id")
        .to_owned();
    let mut imported = request("imported");
    imported.tags[0].1 = "wizard-spot".to_owned();
    imported.key_name = None;
    imported.new_key = Some(NewKey {
        name: "imported-key".to_owned(),
        public_key: Some(public_key(dir.path())),
    });
    imported.subnet_id = subnet.subnet_id().map(str::to_owned);
    imported.spot = true;
    imported.spot_max_price = "0.05".to_owned();
    imported.new_group = None;
    imported.security_groups = vec![group_id.clone()];
    imported.termination_protection = false;
    moto_iam(&moto)
        .await
        .create_instance_profile()
        .instance_profile_name("api-profile")
        .send()
        .await
        .expect("instance profile");
    imported.instance_profile = Some("api-profile".to_owned());
    let answer = launch(&server, &imported).await;
    assert_eq!(answer.status(), 201);
    let answer: WizardLaunched = answer.json().await.expect("response JSON");
    assert_eq!(answer.created, ["key pair imported-key (imported)"]);
    assert_eq!(
        answer.private_key, None,
        "an imported key has no private half here"
    );
    let found = ec2
        .describe_instances()
        .set_instance_ids(Some(answer.instance_ids.clone()))
        .send()
        .await
        .expect("instances");
    let ids: Vec<&str> = answer.instance_ids.iter().map(String::as_str).collect();
    assert_eq!(profiles_of(&ec2, &ids).await, ["api-profile"]);
    for instance in found.reservations().iter().flat_map(|r| r.instances()) {
        assert_eq!(instance.key_name(), Some("imported-key"));
        assert_eq!(instance.subnet_id(), subnet.subnet_id());
        let zone = instance.placement().and_then(|p| p.availability_zone());
        assert_eq!(zone, Some("us-east-1d"), "the subnet's zone wins");
        assert_eq!(
            instance.instance_lifecycle().map(|l| l.as_str()),
            Some("spot")
        );
    }

    // A launch EC2 refuses after the key pair was made: the key, whose private half nobody
    // will ever hold, is deleted again, and the answer says so.
    let mut refused = request("refused");
    refused.key_name = None;
    refused.new_key = Some(NewKey {
        name: "doomed-key".to_owned(),
        public_key: None,
    });
    refused.new_group = None;
    refused.security_groups = vec!["sg-0123456789abcdef0".to_owned()];
    let answer = launch(&server, &refused).await;
    let status = answer.status();
    let body: ApiErrorBody = answer.json().await.expect("a JSON error");
    assert!(status.is_client_error() || status.is_server_error());
    assert!(
        body.error
            .contains("key pair doomed-key (created, then deleted again)"),
        "{}",
        body.error
    );
    let keys = ec2.describe_key_pairs().send().await.expect("key pairs");
    assert!(
        keys.key_pairs()
            .iter()
            .all(|k| k.key_name() != Some("doomed-key"))
    );

    // Each mistake is refused by the server, with what is wrong.
    type Spoil = fn(&mut WizardRequest);
    let cases: [(Spoil, &str); 10] = [
        (
            |r| r.tags = (0..51).map(|n| (format!("k{n}"), String::new())).collect(),
            "at most 50 tags",
        ),
        (
            |r| r.tags.push(("aws:owner".to_owned(), "me".to_owned())),
            "aws: prefix is reserved",
        ),
        (
            |r| r.tags.push(("k".repeat(129), "v".to_owned())),
            "1 to 128 characters",
        ),
        (
            |r| r.new_group.as_mut().expect("group").rules[0].source = "10.0.0.0/33".to_owned(),
            "is not a CIDR block",
        ),
        (
            |r| r.new_group.as_mut().expect("group").rules[0].ports = "70000".to_owned(),
            "within 0-65535",
        ),
        (
            |r| r.new_group.as_mut().expect("group").rules[0].ports = "90-80".to_owned(),
            "starts after it ends",
        ),
        (|r| r.count = 0, "launch 1 to 100 instances, not 0"),
        (
            |r| r.image_id = "ami-0123456789abcdef0".to_owned(),
            "no AMI ami-0123456789abcdef0 in us-east-1",
        ),
        (
            |r| r.instance_type = "t4g.micro".to_owned(),
            "t4g.micro runs arm64",
        ),
        (
            |r| r.user_data = "x".repeat(16 * 1024 + 1),
            "more than the 16384 EC2 accepts",
        ),
    ];
    for (index, (spoil, expected)) in cases.into_iter().enumerate() {
        let mut bad = request(&format!("bad-{index}"));
        spoil(&mut bad);
        let answer = launch(&server, &bad).await;
        assert_eq!(answer.status(), 400, "{expected}");
        let body: ApiErrorBody = answer.json().await.expect("a JSON error");
        assert!(
            body.error.contains(expected),
            "{expected:?} not in {:?}",
            body.error
        );
    }
    let all = ec2.describe_instances().send().await.expect("instances");
    let count: usize = all.reservations().iter().map(|r| r.instances().len()).sum();
    assert_eq!(count, 4, "nothing was launched for a bad request");
    server.stop();
}

/// Replaces the text of the `index`-th element matching `css` with `text`, then leaves it (so
/// its change event fires).
async fn fill(browser: &Browser, css: &str, index: usize, text: &str) {
    let fields = browser
        .client
        .find_all(Locator::Css(css))
        .await
        .expect("fields");
    let field = fields
        .get(index)
        .unwrap_or_else(|| panic!("no {css} #{index}"));
    field.clear().await.expect("clear");
    field
        .send_keys(&format!("{text}\u{E004}"))
        .await
        .expect("type");
}

async fn next(browser: &Browser, step: &str) {
    browser.click("#wizard-next").await;
    browser.text_of(&format!("#step-{step} h2")).await;
}

#[tokio::test]
async fn the_wizard_walks_seven_steps_and_launches_what_was_chosen() {
    let dir = tempfile::tempdir().expect("temp dir");
    let moto = start_moto(dir.path()).await;
    let ec2 = moto_client(&moto, "us-east-1").await;
    ec2.create_key_pair()
        .key_name("knit-test")
        .send()
        .await
        .expect("key pair");
    moto_iam(&moto)
        .await
        .create_instance_profile()
        .instance_profile_name("wizard-profile")
        .send()
        .await
        .expect("instance profile");
    let web = built_console();
    let server = KnitServer::on_moto(&dir.path().join("data"), &moto, &web, &[]);
    let browser = Browser::start().await;
    browser.sign_in(&server).await;
    browser.open(&format!("{}/wizard", server.url)).await;

    // 1. AMI: a search finds an old Ubuntu; the quick start's Amazon Linux is chosen.
    browser.text_of("#step-ami h2").await;
    browser.type_into("#ami-search", "xenial\u{E007}").await;
    browser
        .text_of("#ami-table tr[data-image=\"ami-785db401\"]")
        .await;
    let amazon_linux = "#quick-start li[data-label=\"Amazon Linux 2023 x86_64\"]";
    // The quick start is read apart from the search, and may come after it.
    browser.text_of(amazon_linux).await;
    browser.click(&format!("{amazon_linux} .quick-pick")).await;
    let picked = browser.text_of(&format!("{amazon_linux} .ip")).await;
    let image = picked.trim().to_owned();
    assert!(image.starts_with("ami-"), "{picked}");
    // 2. Hardware: an arm64 type cannot run this x86_64 AMI.
    next(&browser, "hardware").await;
    browser.type_into("#type-family", "micro").await;
    let arm = browser
        .client
        .wait()
        // The first read of every type and spot price from moto takes seconds.
        .at_most(std::time::Duration::from_secs(60))
        .for_element(Locator::Css(
            "#type-table tr[data-type=\"t4g.micro\"] input",
        ))
        .await
        .expect("t4g.micro listed");
    assert!(
        !arm.is_enabled().await.expect("enabled?"),
        "an arm64 type is offered"
    );
    browser
        .click("#type-table tr[data-type=\"t3.micro\"] input")
        .await;
    // Prices: on-demand from knit's list, spot as moto's price history gives it.
    let micro = "#type-table tr[data-type=\"t3.micro\"]";
    assert_eq!(
        browser.text_of(&format!("{micro} .price-on-demand")).await,
        "0.0104"
    );
    assert_eq!(
        browser.text_of(&format!("{micro} .price-spot")).await,
        "0.00001"
    );
    let sources = browser.text_of("#price-sources").await;
    assert!(sources.contains("us-east-1, read 20"), "{sources}");
    browser.select("#type-order", "price").await;
    let rows = browser
        .client
        .find_all(Locator::Css("#type-table tbody tr"))
        .await
        .expect("rows");
    let mut order = Vec::new();
    for row in rows.iter().take(3) {
        order.push(
            row.attr("data-type")
                .await
                .expect("attr")
                .unwrap_or_default(),
        );
    }
    assert_eq!(
        order,
        ["t4g.micro", "t3a.micro", "t3.micro"],
        "cheapest first"
    );
    // 3. Configure: two instances, detailed monitoring.
    next(&browser, "configure").await;
    fill(&browser, "#count", 0, "2").await;
    browser.click("#monitoring").await;
    browser.select("#zone", "us-east-1c").await;
    browser.select("#instance-profile", "wizard-profile").await;
    // 4. Tags: Name, and one more; a reload keeps the draft.
    next(&browser, "tags").await;
    fill(&browser, ".tag-value", 0, "wizard-web").await;
    browser.click("#tag-add").await;
    fill(&browser, ".tag-key", 1, "aws:owner").await;
    assert!(
        browser
            .text_of(".field-error")
            .await
            .contains("aws: prefix is reserved")
    );
    fill(&browser, ".tag-key", 1, "Team").await;
    fill(&browser, ".tag-value", 1, "shop").await;
    browser.client.refresh().await.expect("reload");
    browser.text_of("#step-tags h2").await;
    let kept = browser
        .client
        .find_all(Locator::Css(".tag-value"))
        .await
        .expect("values");
    assert_eq!(
        kept[1].prop("value").await.expect("value").as_deref(),
        Some("shop")
    );
    // 5. A new key pair, made by EC2 at launch; the step is left with the keyboard.
    next(&browser, "keys").await;
    browser.click("#key-create").await;
    browser.type_into("#new-key-name", "wizard key!").await;
    browser.type_into("#new-key-name", "\u{E003}").await;
    let next_link = browser
        .client
        .find(Locator::Css("#wizard-next"))
        .await
        .expect("next");
    next_link.send_keys("\u{E007}").await.expect("enter");
    browser.text_of("#step-network h2").await;
    // 6. A new group with two rules; SSH from everywhere is warned about, and so is the
    // loopback address "My IP" gives a browser on knit's own machine.
    fill(&browser, "#group-name", 0, "wizard-ui").await;
    browser.click("#rule-add").await;
    browser.click("#rule-add").await;
    fill(&browser, ".rule-ports", 0, "443").await;
    fill(&browser, ".rule-source", 0, "0.0.0.0/0").await;
    fill(&browser, ".rule-source", 1, "0.0.0.0/0").await;
    assert!(browser.text_of(".notice.warning").await.contains("SSH"));
    let my_ip = browser
        .client
        .find_all(Locator::Css(".rule-my-ip"))
        .await
        .expect("buttons");
    my_ip[1].click().await.expect("My IP");
    browser
        .wait_for_text_containing(".notice.warning", "127.0.0.1/32 is a loopback address")
        .await;
    fill(&browser, ".rule-source", 1, "198.51.100.0/24").await;
    // 7. Review: EC2's dry run first, then the launch.
    next(&browser, "review").await;
    let review = browser.text_of("#review").await;
    for chosen in [
        image.as_str(),
        "t3.micro",
        "wizard-profile",
        "wizard key (created at launch)",
        "new group wizard-ui",
    ] {
        assert!(review.contains(chosen), "{chosen} not in {review}");
    }
    // No subnet chosen: the default VPC, where the new group is made (shown once looked up).
    let default_vpc = ec2
        .describe_vpcs()
        .filters(Filter::builder().name("is-default").values("true").build())
        .send()
        .await
        .expect("VPCs")
        .vpcs()[0]
        .vpc_id()
        .expect("id")
        .to_owned();
    browser.wait_for_text("#review-vpc", &default_vpc).await;
    browser
        .wait_for_text_containing("#dry-run", "EC2's dry run accepts 2 × t3.micro")
        .await;
    browser
        .wait_for_text_containing(
            "#review-cost",
            "$0.0208 per hour, $15.18 per month for 2 × t3.micro",
        )
        .await;
    browser.click("#launch-go").await;
    let result = browser.text_of("#launch-result").await;
    assert!(result.contains("Started i-"), "{result}");
    assert!(result.contains("key pair wizard key (created)"), "{result}");
    // The private key, offered this once: nowhere in the browser's storage, nor in knit's.
    let offered = browser
        .client
        .find(Locator::Css("#private-key"))
        .await
        .expect("private key")
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(offered.contains("PRIVATE KEY"), "{offered}");
    let download = browser
        .client
        .find(Locator::Css("#private-key-download"))
        .await
        .expect("download link");
    assert_eq!(
        download.attr("download").await.expect("attr").as_deref(),
        Some("wizard key.pem")
    );
    let stored = browser
        .client
        .execute("return JSON.stringify(window.localStorage)", Vec::new())
        .await
        .expect("local storage");
    assert!(!stored.to_string().contains("PRIVATE KEY"));
    let secret_line = offered.lines().nth(1).expect("a key body");
    // SQLite writes to its write-ahead log first: the key must be in neither file.
    for file in ["data/knit.db", "data/knit.db-wal", "data.log"] {
        let bytes = std::fs::read(dir.path().join(file)).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(secret_line),
            "the private key is in {file}"
        );
    }

    // The progress view: each instance running with its checks passed; port 22 of moto's
    // made-up addresses never answers.
    browser.click("#launch-follow").await;
    let ids: Vec<String> = result
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|word| word.starts_with("i-"))
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 2, "{result}");
    for id in &ids {
        let row = format!("#launch-progress tr[data-instance=\"{id}\"]");
        browser
            .wait_for_text(&format!("{row} .stage-checks"), "ok")
            .await;
        assert_eq!(
            browser.text_of(&format!("{row} .stage-state")).await,
            "running"
        );
        assert_eq!(
            browser.text_of(&format!("{row} .stage-ssh")).await,
            "not yet"
        );
    }

    // In EC2, what was chosen.
    let groups = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values("wizard-ui")
                .build(),
        )
        .send()
        .await
        .expect("groups");
    assert_eq!(
        groups.security_groups()[0].vpc_id(),
        Some(default_vpc.as_str())
    );
    let launched = assert_launched(
        &ec2,
        &Launched {
            name: "wizard-web",
            image: &image,
            group: "wizard-ui",
            zone: "us-east-1c",
            key: "wizard key",
            profile: Some("wizard-profile"),
            open: 443,
        },
    )
    .await;

    // "Launch a similar instance" starts a draft from one of them.
    let id = launched[0].instance_id().expect("id");
    browser
        .open(&format!("{}/wizard/ami?like={id}", server.url))
        .await;
    assert!(browser.text_of("#launch-like").await.contains(id));
    browser
        .click(".wizard-steps a[href=\"/wizard/review\"]")
        .await;
    let review = browser.text_of("#review").await;
    for chosen in [
        image.as_str(),
        "t3.micro",
        "us-east-1c",
        "Team=shop",
        "wizard key",
        "detailed",
    ] {
        assert!(review.contains(chosen), "{chosen} not in {review}");
    }

    // An AMI gone since it was picked: the review shows the dry run's refusal, and Launch
    // stays disabled. The page saves its draft as its checks come back: edit the draft only
    // once the dry run has answered, or the page may save over the edit.
    browser
        .wait_for_text_containing("#dry-run", "EC2's dry run accepts")
        .await;
    browser
        .client
        .execute(
            "const draft = JSON.parse(localStorage.getItem('knit.launch.draft'));
             draft.request.image_id = 'ami-0123456789abcdef0';
             localStorage.setItem('knit.launch.draft', JSON.stringify(draft));",
            Vec::new(),
        )
        .await
        .expect("edit the draft");
    browser.client.refresh().await.expect("reload");
    browser
        .wait_for_text_containing("#dry-run", "no AMI ami-0123456789abcdef0 in us-east-1")
        .await;
    let go = browser
        .client
        .find(Locator::Css("#launch-go"))
        .await
        .expect("launch button");
    assert!(!go.is_enabled().await.expect("enabled?"));
    // The refusal leads back to the step it concerns, which shows it too.
    browser.click("#failure-step").await;
    browser
        .wait_for_text_containing("#step-failure", "no AMI ami-0123456789abcdef0")
        .await;
    assert_eq!(browser.path().await, "/wizard/ami");
    browser.close().await;
    server.stop();
}
