//! The wizard's quick start: the current image of each common distribution, resolved from the
//! public parameters (AWS Systems Manager) that AWS, Canonical and Debian keep pointing at their
//! newest build in every region.

use aws_sdk_ec2::Client;
use knit_shared::{ImageQuery, QuickStartImage};

use super::{Ec2Error, Ec2Target, client, images};

/// A distribution's image as its publisher names it.
struct Distribution {
    label: &'static str,
    architecture: &'static str,
    parameter: &'static str,
    /// Who publishes it, and the name pattern of all its versions.
    owner: &'static str,
    versions: &'static str,
}

const AMAZON: &str = "amazon";
const CANONICAL: &str = "099720109477";
const DEBIAN: &str = "136693071363";

const DISTRIBUTIONS: [Distribution; 8] = [
    Distribution {
        label: "Amazon Linux 2023",
        architecture: "x86_64",
        parameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        owner: AMAZON,
        versions: "al2023-ami-2023.*-x86_64",
    },
    Distribution {
        label: "Amazon Linux 2023",
        architecture: "arm64",
        parameter: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
        owner: AMAZON,
        versions: "al2023-ami-2023.*-arm64",
    },
    Distribution {
        label: "Ubuntu 24.04 LTS",
        architecture: "x86_64",
        parameter: "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
        owner: CANONICAL,
        versions: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
    },
    Distribution {
        label: "Ubuntu 24.04 LTS",
        architecture: "arm64",
        parameter: "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id",
        owner: CANONICAL,
        versions: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-*",
    },
    Distribution {
        label: "Ubuntu 22.04 LTS",
        architecture: "x86_64",
        parameter: "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
        owner: CANONICAL,
        versions: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*",
    },
    Distribution {
        label: "Ubuntu 22.04 LTS",
        architecture: "arm64",
        parameter: "/aws/service/canonical/ubuntu/server/22.04/stable/current/arm64/hvm/ebs-gp2/ami-id",
        owner: CANONICAL,
        versions: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-*",
    },
    Distribution {
        label: "Debian 12",
        architecture: "x86_64",
        parameter: "/aws/service/debian/release/12/latest/amd64",
        owner: DEBIAN,
        versions: "debian-12-amd64-*",
    },
    Distribution {
        label: "Debian 12",
        architecture: "arm64",
        parameter: "/aws/service/debian/release/12/latest/arm64",
        owner: DEBIAN,
        versions: "debian-12-arm64-*",
    },
];

/// GetParameters names at most this many parameters per call.
const NAMES_PER_CALL: usize = 10;

/// Every distribution's current image in `target`'s region; one the region does not publish
/// (or whose image EC2 does not show) comes without an image.
pub async fn resolve(ec2: &Client, target: &Ec2Target) -> Result<Vec<QuickStartImage>, Ec2Error> {
    let ssm = client::ssm(target).await;
    let mut published = std::collections::HashMap::new();
    for names in DISTRIBUTIONS.chunks(NAMES_PER_CALL) {
        let found = ssm
            .get_parameters()
            .set_names(Some(names.iter().map(|d| d.parameter.to_owned()).collect()))
            .send()
            .await
            .map_err(|error| Ec2Error::from_sdk(error, target))?;
        for parameter in found.parameters() {
            if let (Some(name), Some(value)) = (parameter.name(), parameter.value()) {
                published.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    let mut ids: Vec<String> = published.values().cloned().collect();
    ids.sort();
    ids.dedup();
    let found = images::by_ids(ec2, target, ids).await?;
    Ok(DISTRIBUTIONS
        .iter()
        .map(|distribution| QuickStartImage {
            label: distribution.label.to_owned(),
            architecture: distribution.architecture.to_owned(),
            parameter: distribution.parameter.to_owned(),
            image: published
                .get(distribution.parameter)
                .and_then(|id| found.iter().find(|image| &image.id == id))
                .cloned(),
            search: ImageQuery {
                owner: Some(distribution.owner.to_owned()),
                q: Some(distribution.versions.to_owned()),
                arch: Some(distribution.architecture.to_owned()),
                ..ImageQuery::default()
            },
        })
        .collect())
}
