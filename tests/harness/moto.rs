//! moto's EC2 server on a free port, started the same way the sandbox starts it.

use aws_sdk_ec2::Client;
use knit::ec2::{Ec2Target, connect};
use knit::sandbox::Moto;

/// The moto_server of the set-up's venv (`KNIT_MOTO_SERVER`), or the one on PATH.
pub async fn start_moto(log_dir: &std::path::Path) -> Moto {
    let program = std::env::var_os("KNIT_MOTO_SERVER").unwrap_or_else(|| "moto_server".into());
    Moto::start(std::path::Path::new(&program), &log_dir.join("moto.log"))
        .await
        .expect("moto starts (the README's set-up installs it)")
}

/// Where moto's `region` is, as knit's EC2 layer names a target.
pub fn moto_target(moto: &Moto, region: &str) -> Ec2Target {
    Ec2Target {
        endpoint: Some(moto.endpoint()),
        region: Some(region.to_owned()),
        dummy_credentials: true,
        ..Ec2Target::default()
    }
}

/// An SDK client of moto's `region`, for tests to arrange or check EC2 behind knit's back.
pub async fn moto_client(moto: &Moto, region: &str) -> Client {
    connect(&moto_target(moto, region)).await.0
}

/// An IAM client on `moto`, which serves IAM on the same port.
pub async fn moto_iam(moto: &Moto) -> aws_sdk_iam::Client {
    knit::ec2::iam(&moto_target(moto, "us-east-1")).await
}

/// A group's inbound `(from port, CIDR)` pairs, sorted.
pub fn inbound_cidrs(group: &aws_sdk_ec2::types::SecurityGroup) -> Vec<(i32, String)> {
    let mut rules: Vec<(i32, String)> = group
        .ip_permissions()
        .iter()
        .flat_map(|permission| {
            permission.ip_ranges().iter().map(|range| {
                (
                    permission.from_port().unwrap_or(0),
                    range.cidr_ip().unwrap_or_default().to_owned(),
                )
            })
        })
        .collect();
    rules.sort();
    rules
}
