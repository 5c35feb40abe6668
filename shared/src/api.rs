//! Request and response bodies of the JSON API under `/api`.

use serde::{Deserialize, Serialize};

/// The body of every failed API response, whatever the status code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiErrorBody {
    /// A sentence a person can act on, e.g. "instance i-0abc is protected against termination".
    pub error: String,
    /// A stable machine-readable code, e.g. `not_found`, `bad_request`, `ec2_unavailable`.
    pub code: String,
}

/// `GET /api/health`: the server is up, and what it is connected to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// The knit version serving this console.
    pub version: String,
    /// The AWS region used when a request names none.
    pub region: String,
    /// The AWS credentials profile used when a request names none; `None` means the default chain.
    pub profile: Option<String>,
    /// Present when knit runs its sandbox: a local EC2 emulator and local SSH hosts, no real AWS.
    pub sandbox: Option<SandboxInfo>,
}

/// What the sandbox is made of, shown in the console's banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxInfo {
    /// The endpoint of the local EC2 API server (moto) that stands in for AWS.
    pub ec2_endpoint: String,
    /// The demo cluster's site, once deployed: nginx on the first web host, or with machines
    /// the balancer in front of the launched frontends.
    pub site: String,
    /// The local SSH hosts (real `sshd` processes on loopback) of the demo cluster; none when
    /// the demo is launched onto machines.
    pub hosts: Vec<SandboxHost>,
    /// Whether each instance launched in the sandbox boots a real machine (and the demo
    /// cluster is launched onto them).
    #[serde(default)]
    pub machines: bool,
}

/// One local SSH host of the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SandboxHost {
    /// The host's name in the demo cluster, e.g. `web1`.
    pub name: String,
    /// Where knit connects: `user@127.0.0.1:port`.
    pub address: String,
    /// The SHA-256 fingerprint of the host key that knit verifies, as `ssh-keygen -l` prints it.
    pub host_key_fingerprint: String,
}

/// `GET /api/regions`: the regions the account can use, and the server's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Regions {
    /// The region used when a request names none.
    pub default: String,
    /// Every region enabled for the account, sorted.
    pub regions: Vec<String>,
}

/// `GET /api/zones`: the available zones of a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Zones {
    /// The region the zones belong to.
    pub region: String,
    /// Names of its available zones, sorted.
    pub zones: Vec<String>,
}

/// The query string of routes that only need a profile and a region, each defaulting to the
/// server's.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ScopeQuery {
    /// AWS credentials profile of the knit server to use.
    pub profile: Option<String>,
    /// Region to look in.
    pub region: Option<String>,
}

/// `GET /api/profiles`: the AWS credentials profiles configured on the knit server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profiles {
    /// The profile used when a request names none; `None` is the default credential chain.
    pub default: Option<String>,
    /// Empty in the sandbox, whose credentials are dummies.
    pub profiles: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_without_sandbox_serializes_sandbox_as_null() {
        let health = Health {
            version: "0.1.0".into(),
            region: "us-east-1".into(),
            profile: None,
            sandbox: None,
        };
        let json = serde_json::to_value(&health).expect("health serializes");
        assert_eq!(json["sandbox"], serde_json::Value::Null);
        assert_eq!(json["region"], "us-east-1");
    }

    #[test]
    fn error_body_round_trips() {
        let body = ApiErrorBody {
            error: "no route for GET /api/nope".into(),
            code: "not_found".into(),
        };
        let text = serde_json::to_string(&body).expect("error body serializes");
        let back: ApiErrorBody = serde_json::from_str(&text).expect("error body parses");
        assert_eq!(back, body);
    }
}
