//! EC2 failures in words a person can act on.

use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};

use super::Ec2Target;
use crate::report::cause_chain;

#[derive(Debug, thiserror::Error)]
pub enum Ec2Error {
    #[error(
        "cannot reach EC2 at {endpoint}: {detail}; check the endpoint (--ec2-endpoint / KNIT_EC2_ENDPOINT) and the network"
    )]
    Unreachable { endpoint: String, detail: String },
    #[error(
        "EC2 did not accept the credentials{profile}: {detail}; check the AWS profile (--profile / KNIT_PROFILE) or the AWS_* environment"
    )]
    Credentials { profile: String, detail: String },
    #[error("{message} ({code})")]
    Refused {
        refusal: Refusal,
        code: String,
        message: String,
    },
}

/// What kind of "no" EC2 gave, which decides the HTTP status knit answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotFound,
    /// The instance is in the wrong state for the action, or protected.
    Conflict,
    /// The credentials lack an IAM permission.
    Forbidden,
    /// EC2's rate limit, still hit after the SDK's retries with backoff.
    Throttled,
    Invalid,
    Other,
}

/// Error codes with which EC2 says the caller, not the request, is the problem.
const CREDENTIAL_CODES: &[&str] = &[
    "AuthFailure",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "RequestExpired",
];

fn refusal(code: &str) -> Refusal {
    match code {
        "InvalidInstanceID.NotFound"
        | "InvalidGroup.NotFound"
        | "InvalidAMIID.NotFound"
        | "InvalidKeyPair.NotFound" => Refusal::NotFound,
        "IncorrectInstanceState" | "IncorrectState" | "OperationNotPermitted" => Refusal::Conflict,
        "UnauthorizedOperation" | "Blocked" => Refusal::Forbidden,
        "RequestLimitExceeded" | "Throttling" | "ThrottlingException" => Refusal::Throttled,
        code if code.starts_with("Invalid") || code.starts_with("Missing") => Refusal::Invalid,
        _ => Refusal::Other,
    }
}

impl Ec2Error {
    pub fn from_sdk<E, R>(error: SdkError<E, R>, target: &Ec2Target) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let profile = target
            .profile
            .as_ref()
            .map(|name| format!(" of profile {name}"))
            .unwrap_or_default();
        match &error {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or("Unknown").to_owned();
                let message = service.err().message().unwrap_or("no message").to_owned();
                if CREDENTIAL_CODES.contains(&code.as_str()) {
                    Self::Credentials {
                        profile,
                        detail: format!("{code}: {message}"),
                    }
                } else {
                    Self::Refused {
                        refusal: refusal(&code),
                        code,
                        message,
                    }
                }
            }
            SdkError::DispatchFailure(_)
            | SdkError::TimeoutError(_)
            | SdkError::ResponseError(_) => Self::Unreachable {
                endpoint: target
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| "the AWS endpoint".to_owned()),
                detail: cause_chain(&error),
            },
            // Construction fails before anything is sent, most often for want of credentials.
            _ => Self::Credentials {
                profile,
                detail: cause_chain(&error),
            },
        }
    }
}
