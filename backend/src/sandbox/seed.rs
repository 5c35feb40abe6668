//! What the sandbox's EC2 server holds before anyone uses it: knit's key pair, a security group
//! and two images of our own, beside the public Amazon images moto ships. Seeding is idempotent,
//! so an `--ec2-endpoint` that was seeded before is left as it is.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::primitives::Blob;
use aws_sdk_ec2::types::{ArchitectureValues, Filter, IpPermission, IpRange};

use super::SandboxError;

pub const KEY_NAME: &str = "knit-sandbox";
pub const SECURITY_GROUP: &str = "knit-sandbox-web";
/// (name, architecture) of the images registered as the sandbox account's own.
const IMAGES: [(&str, ArchitectureValues); 2] = [
    ("knit-demo-web-x86_64", ArchitectureValues::X8664),
    ("knit-demo-web-arm64", ArchitectureValues::Arm64),
];

pub async fn seed(ec2: &Client, client_public_key: &str) -> Result<(), SandboxError> {
    key_pair(ec2, client_public_key).await?;
    security_group(ec2).await?;
    for (name, architecture) in IMAGES {
        image(ec2, name, architecture).await?;
    }
    Ok(())
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

async fn image(
    ec2: &Client,
    name: &str,
    architecture: ArchitectureValues,
) -> Result<(), SandboxError> {
    let existing = ec2
        .describe_images()
        .owners("self")
        .filters(Filter::builder().name("name").values(name).build())
        .send()
        .await
        .map_err(|error| failed("DescribeImages", error))?;
    if !existing.images().is_empty() {
        return Ok(());
    }
    ec2.register_image()
        .name(name)
        .description("knit sandbox: a web server image of the demo account")
        .architecture(architecture)
        .root_device_name("/dev/xvda")
        .virtualization_type("hvm")
        .send()
        .await
        .map_err(|error| failed("RegisterImage", error))?;
    Ok(())
}
