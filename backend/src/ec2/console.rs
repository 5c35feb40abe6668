//! An instance's console output: where cloud-init prints the host keys it generated, and where
//! a failed boot is read.

use aws_sdk_ec2::Client;
use base64::Engine;

use super::{Ec2Error, Ec2Target};

/// The console output of instance `id`, or `None` while EC2 has none yet.
pub async fn console_output(
    client: &Client,
    target: &Ec2Target,
    id: &str,
) -> Result<Option<String>, Ec2Error> {
    let answer = client
        .get_console_output()
        .instance_id(id)
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    Ok(answer.output().and_then(|encoded| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }))
}

/// How much of a system log is shown: EC2 keeps the last 64 KiB too.
const SHOWN: usize = 64 * 1024;

/// The end of instance `id`'s system log, for a person to read.
pub async fn system_log(
    client: &Client,
    target: &Ec2Target,
    id: &str,
) -> Result<knit_shared::ConsoleOutput, Ec2Error> {
    let output = console_output(client, target, id)
        .await?
        .unwrap_or_default();
    let mut start = output.len().saturating_sub(SHOWN);
    while !output.is_char_boundary(start) {
        start += 1;
    }
    Ok(knit_shared::ConsoleOutput {
        instance_id: id.to_owned(),
        truncated: start > 0,
        output: output[start..].to_owned(),
    })
}
