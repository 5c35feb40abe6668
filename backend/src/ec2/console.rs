//! An instance's console output: where cloud-init prints the host keys it generated.

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
