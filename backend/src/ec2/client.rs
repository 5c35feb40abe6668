//! Building an EC2 client: credentials and region from the AWS default chain, optional endpoint.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, timeout::TimeoutConfig};
use aws_sdk_ec2::Client;
use aws_sdk_ec2::config::{Credentials, SharedInterceptor};

use super::Ec2Error;

/// Region of last resort when neither the request, the settings nor the profile name one.
const FALLBACK_REGION: &str = "us-east-1";

/// Which EC2 to talk to and as whom.
#[derive(Debug, Clone, Default)]
pub struct Ec2Target {
    /// Named profile from ~/.aws; `None` uses the default chain (env, default profile, SSO, role).
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Override of the EC2 endpoint, e.g. a local moto server.
    pub endpoint: Option<String>,
    /// Sign with fixed dummy credentials: the local emulator accepts any, and a newcomer has none.
    pub dummy_credentials: bool,
    /// Interceptors in front of the real client: the seam through which tests inject the faults
    /// a real EC2 produces and a local one does not (throttling, 5xx).
    pub interceptors: Vec<SharedInterceptor>,
}

/// Builds a client for `target` and says which region it resolved to.
pub async fn connect(target: &Ec2Target) -> (Client, String) {
    let (config, region) = sdk_config(target).await;
    let mut client_config = aws_sdk_ec2::config::Builder::from(&config);
    client_config.push_interceptor(super::counted::interceptor());
    for interceptor in &target.interceptors {
        client_config.push_interceptor(interceptor.clone());
    }
    (Client::from_conf(client_config.build()), region)
}

/// An IAM client with `target`'s credentials (and endpoint: a local emulator serves IAM too).
pub async fn iam(target: &Ec2Target) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(&sdk_config(target).await.0)
}

/// A Systems Manager client with `target`'s credentials and region (and endpoint, as for IAM).
pub async fn ssm(target: &Ec2Target) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&sdk_config(target).await.0)
}

/// The AWS configuration of `target` and the region it resolved to.
async fn sdk_config(target: &Ec2Target) -> (aws_config::SdkConfig, String) {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        // Throttling and 5xx are retried with exponential backoff before they reach a person.
        .retry_config(RetryConfig::standard().with_max_attempts(5));
    if let Some(profile) = &target.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &target.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &target.endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if target.dummy_credentials {
        loader = loader.credentials_provider(Credentials::new(
            "knit-sandbox",
            "knit-sandbox",
            None,
            None,
            "knit-sandbox",
        ));
    }
    let mut config = loader.load().await;
    if config.region().is_none() {
        config = config
            .into_builder()
            .region(Region::from_static(FALLBACK_REGION))
            .build();
    }
    let region = config
        .region()
        .map_or_else(|| FALLBACK_REGION.to_owned(), ToString::to_string);
    (config, region)
}

/// One cheap call (DescribeAvailabilityZones) that proves the endpoint answers and the credentials
/// are accepted, so a bad configuration fails at start-up rather than on the first page view.
pub async fn probe(client: &Client, target: &Ec2Target) -> Result<(), Ec2Error> {
    client
        .describe_availability_zones()
        .send()
        .await
        .map(|_| ())
        .map_err(|error| Ec2Error::from_sdk(error, target))
}
