//! What the sandbox's EC2 server holds before anyone uses it: knit's key pair, a security group,
//! two images of our own and (where no machines run) three running instances, beside the public
//! Amazon images moto ships. Seeding is idempotent, so an `--ec2-endpoint` that was seeded
//! before is left as it is.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{
    ArchitectureValues, Filter, InstanceType, IpPermission, IpRange, ResourceType, Tag,
    TagSpecification,
};

use super::SandboxError;

pub const KEY_NAME: &str = "knit-sandbox";
pub const SECURITY_GROUP: &str = "knit-sandbox-web";
/// (name, architecture) of the images registered as the sandbox account's own.
const IMAGES: [(&str, ArchitectureValues); 2] = [
    ("knit-demo-web-x86_64", ArchitectureValues::X8664),
    ("knit-demo-web-arm64", ArchitectureValues::Arm64),
];

/// (Name, Role, type) of the instances the sandbox account starts with.
const SANDBOX_INSTANCES: [(&str, &str, InstanceType); 3] = [
    ("web-1", "web", InstanceType::T3Small),
    ("web-2", "web", InstanceType::T3Small),
    ("db-1", "db", InstanceType::M5Large),
];

pub async fn seed(
    ec2: &Client,
    client_public_key: &str,
    with_instances: bool,
) -> Result<(), SandboxError> {
    key_pair(ec2, client_public_key).await?;
    security_group(ec2).await?;
    let mut images = Vec::new();
    for (name, architecture) in IMAGES {
        images.push(image(ec2, name, architecture).await?);
    }
    match with_instances {
        true => instances(ec2, &images[0]).await,
        false => Ok(()),
    }
}

fn failed(what: &str, error: impl std::error::Error + 'static) -> SandboxError {
    SandboxError::Seed(format!("{what}: {}", crate::report::cause_chain(&error)))
}

/// The sandbox's SSH client key, so instances launched in the sandbox name a key knit holds.
async fn key_pair(ec2: &Client, public_key: &str) -> Result<(), SandboxError> {
    let existing = ec2
        .describe_key_pairs()
        .send()
        .await
        .map_err(|error| failed("DescribeKeyPairs", error))?;
    let present = existing
        .key_pairs()
        .iter()
        .any(|pair| pair.key_name() == Some(KEY_NAME));
    if !present {
        ec2.import_key_pair()
            .key_name(KEY_NAME)
            .public_key_material(Blob::new(public_key.as_bytes()))
            .send()
            .await
            .map_err(|error| failed("ImportKeyPair", error))?;
    }
    Ok(())
}

/// Web traffic from anywhere, SSH from a documentation range only.
async fn security_group(ec2: &Client) -> Result<(), SandboxError> {
    let existing = ec2
        .describe_security_groups()
        .filters(
            Filter::builder()
                .name("group-name")
                .values(SECURITY_GROUP)
                .build(),
        )
        .send()
        .await
        .map_err(|error| failed("DescribeSecurityGroups", error))?;
    if !existing.security_groups().is_empty() {
        return Ok(());
    }
    let created = ec2
        .create_security_group()
        .group_name(SECURITY_GROUP)
        .description("knit sandbox: web servers")
        .send()
        .await
        .map_err(|error| failed("CreateSecurityGroup", error))?;
    let rule = |port: i32, cidr: &str, why: &str| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .ip_ranges(IpRange::builder().cidr_ip(cidr).description(why).build())
            .build()
    };
    ec2.authorize_security_group_ingress()
        .set_group_id(created.group_id().map(str::to_owned))
        .ip_permissions(rule(80, "0.0.0.0/0", "HTTP from anywhere"))
        .ip_permissions(rule(443, "0.0.0.0/0", "HTTPS from anywhere"))
        .ip_permissions(rule(22, "203.0.113.0/24", "SSH from the office"))
        .send()
        .await
        .map_err(|error| failed("AuthorizeSecurityGroupIngress", error))?;
    Ok(())
}

/// Registers the image unless the account has it; answers its id.
async fn image(
    ec2: &Client,
    name: &str,
    architecture: ArchitectureValues,
) -> Result<String, SandboxError> {
    let existing = ec2
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("name").values(name).build())
        .send()
        .await
        .map_err(|error| failed("DescribeImages", error))?;
    if let Some(id) = existing.images().first().and_then(|image| image.image_id()) {
        return Ok(id.to_owned());
    }
    let registered = ec2
        .register_image()
        .name(name)
        .description("knit sandbox: a web server image of the demo account")
        .architecture(architecture)
        .root_device_name("/dev/xvda")
        .virtualization_type("hvm")
        .send()
        .await
        .map_err(|error| failed("RegisterImage", error))?;
    Ok(registered.image_id().unwrap_or_default().to_owned())
}

/// Three running instances, named and tagged like the demo cluster's machines.
async fn instances(ec2: &Client, image_id: &str) -> Result<(), SandboxError> {
    let existing = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("tag:Stage")
                .values("Sandbox")
                .build(),
        )
        .send()
        .await
        .map_err(|error| failed("DescribeInstances", error))?;
    if !existing.reservations().is_empty() {
        return Ok(());
    }
    for (name, role, instance_type) in SANDBOX_INSTANCES {
        let tags = TagSpecification::builder()
            .resource_type(ResourceType::Instance)
            .tags(Tag::builder().key("Name").value(name).build())
            .tags(Tag::builder().key("Role").value(role).build())
            .tags(Tag::builder().key("Stage").value("Sandbox").build())
            .tags(Tag::builder().key("Product").value("Demo").build())
            .build();
        ec2.run_instances()
            .image_id(image_id)
            .instance_type(instance_type)
            .key_name(KEY_NAME)
            .security_groups(SECURITY_GROUP)
            .min_count(1)
            .max_count(1)
            .tag_specifications(tags)
            .send()
            .await
            .map_err(|error| failed("RunInstances", error))?;
    }
    Ok(())
}
