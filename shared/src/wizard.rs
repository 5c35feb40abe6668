//! The launch wizard's request, and the checks it must pass in the browser as the person types
//! and again on the server, which never trusts the browser.

use serde::{Deserialize, Serialize};

use crate::validate::{self, Invalid};

/// At most this many tags on a resource (an AWS limit).
pub const MAX_TAGS: usize = 50;
/// User data may be at most this many bytes before base64 (an AWS limit).
pub const MAX_USER_DATA: usize = 16 * 1024;
/// Instances one launch may start.
pub const MAX_COUNT: u32 = 100;

/// `POST /api/wizard/launch`: everything the seven steps chose.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WizardRequest {
    /// AWS profile; the server's when absent.
    pub profile: Option<String>,
    /// Region; the server's when absent.
    pub region: Option<String>,
    /// Step 1: the AMI.
    pub image_id: String,
    /// Step 2: the instance type, e.g. `t3.micro`.
    pub instance_type: String,
    /// Step 3: how many instances.
    pub count: u32,
    /// Step 3: 1-minute CloudWatch metrics (billed) instead of 5-minute ones.
    pub detailed_monitoring: bool,
    /// Step 3: the availability zone; EC2 chooses when absent.
    #[serde(default)]
    pub zone: Option<String>,
    /// Step 3: the subnet (its zone wins); the default VPC's subnet of the zone when absent.
    #[serde(default)]
    pub subnet_id: Option<String>,
    /// Step 3: spot instead of on-demand: cheaper, but AWS may take the instance back.
    #[serde(default)]
    pub spot: bool,
    /// Step 3: the most a spot instance may cost, dollars per hour; empty: the on-demand price.
    #[serde(default)]
    pub spot_max_price: String,
    /// Step 3: the IAM instance profile (by name) whose role the instance's software acts as.
    #[serde(default)]
    pub instance_profile: Option<String>,
    /// Step 3: what a shutdown from inside the instance does: stop it (default) or terminate it.
    #[serde(default)]
    pub terminate_on_shutdown: bool,
    /// Step 3: refuse termination until protection is removed.
    #[serde(default)]
    pub termination_protection: bool,
    /// Step 4: tags, the `Name` tag first; also put on the volumes.
    pub tags: Vec<(String, String)>,
    /// Step 3: user data, as text.
    #[serde(default)]
    pub user_data: String,
    /// Step 6: security groups: existing ones and the rules of a new one.
    pub security_groups: Vec<String>,
    /// Step 6: a new group to create with these rules, when launching.
    pub new_group: Option<NewGroup>,
    /// Step 5: an existing key pair's name, or none (only with `no_key_acknowledged`).
    pub key_name: Option<String>,
    /// Step 5: a key pair to create or import, when launching.
    #[serde(default)]
    pub new_key: Option<NewKey>,
    /// Step 5: the person agreed to launch without a key (no SSH access).
    #[serde(default)]
    pub no_key_acknowledged: bool,
    /// The same token twice launches once: a double click or a retried request cannot.
    pub client_token: String,
}

/// What a launch did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WizardLaunched {
    /// The instances started (by the first request with this client token).
    pub instance_ids: Vec<String>,
    /// What was created besides them, e.g. `security group web (sg-…)`.
    pub created: Vec<String>,
    /// True when the client token had launched already: nothing new was started.
    pub repeated: bool,
    /// The private key of a key pair created by this launch (PEM), in the first answer only:
    /// knit keeps no copy, so it can never be shown again.
    #[serde(default)]
    pub private_key: Option<String>,
}

/// `POST /api/wizard/check`: EC2's dry run accepted the launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WizardCheck {
    /// What was checked, in words.
    pub message: String,
}

/// `GET /api/client-address`: the browser's address as knit's server sees it, for "My IP".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientAddress {
    /// e.g. `203.0.113.7`.
    pub address: String,
    /// The block of that one address: `/32` (IPv4) or `/128` (IPv6).
    pub cidr: String,
}

impl ClientAddress {
    /// `address` as a rule source; an IPv4 address mapped into IPv6 is given as IPv4.
    pub fn of(address: std::net::IpAddr) -> Self {
        // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
        let address = match address {
            std::net::IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map_or(std::net::IpAddr::V6(v6), std::net::IpAddr::V4),
            v4 => v4,
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        Self {
            address: address.to_string(),
            cidr: format!("{address}/{bits}"),
        }
    }
}

/// A key pair the launch creates (EC2 makes the key) or imports (from a public key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewKey {
    /// Its name in EC2.
    pub name: String,
    /// OpenSSH public key to import; EC2 creates a new key when absent.
    pub public_key: Option<String>,
}

/// A security group the launch creates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewGroup {
    /// Its name.
    pub name: String,
    /// Its inbound rules.
    pub rules: Vec<NewRule>,
}

/// An inbound rule as the rules editor has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewRule {
    /// `tcp`, `udp`, `icmp` or `all`.
    pub protocol: String,
    /// `22` or `8000-8080`.
    pub ports: String,
    /// A CIDR block (IPv4 or IPv6) or another security group (`sg-…`).
    pub source: String,
}

/// Ports that should not be open to the whole internet.
const SENSITIVE: [(u16, &str); 6] = [
    (22, "SSH"),
    (3389, "RDP"),
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (6379, "Redis"),
    (27017, "MongoDB"),
];

impl NewRule {
    /// Why this rule is risky or useless, if it is: a sensitive port open to everyone, or a
    /// loopback source ("My IP" of a knit running on the same machine as the browser).
    pub fn warning(&self) -> Option<String> {
        if self.source.starts_with("127.") || self.source == "::1/128" {
            return Some(format!(
                "{} is a loopback address: no traffic from it ever reaches an instance; \
                 enter your public address instead",
                self.source
            ));
        }
        if self.source != "0.0.0.0/0" && self.source != "::/0" {
            return None;
        }
        let (from, to) = validate::port_range(&self.ports).ok()?;
        SENSITIVE
            .iter()
            .find(|(port, _)| self.protocol == "all" || (from..=to).contains(port))
            .map(|(port, name)| {
                format!(
                    "{name} (port {port}) is open to the whole internet ({})",
                    self.source
                )
            })
    }
}

impl WizardRequest {
    /// What the person should know before launching, collected from every step.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings: Vec<String> = self
            .new_group
            .iter()
            .flat_map(|group| group.rules.iter().filter_map(NewRule::warning))
            .collect();
        if self.key_name.is_none() && self.new_key.is_none() {
            warnings.push("no key pair: nobody can log in over SSH".to_owned());
        }
        if self.spot {
            warnings.push(
                "spot instances may be stopped by AWS at two minutes' notice when it needs them back"
                    .to_owned(),
            );
        }
        if self.detailed_monitoring {
            warnings.push(
                "detailed monitoring is billed per metric (about $2.10 a month per instance)"
                    .to_owned(),
            );
        }
        warnings
    }

    /// Every mistake of the request, each naming its field.
    pub fn problems(&self) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let mut check = |result: Result<(), Invalid>| {
            if let Err(invalid) = result {
                problems.push(invalid);
            }
        };
        check(validate::image_id(&self.image_id));
        check(validate::instance_type(&self.instance_type));
        check(validate::instance_count(self.count, MAX_COUNT));
        check(validate::tags(&self.tags, MAX_TAGS));
        check(validate::user_data(&self.user_data, MAX_USER_DATA));
        for id in &self.security_groups {
            check(validate::security_group_id(id));
        }
        if let Some(group) = &self.new_group {
            check(validate::group_name(&group.name));
            for rule in &group.rules {
                check(validate::rule_protocol(&rule.protocol));
                check(validate::port_range(&rule.ports).map(|_| ()));
                check(validate::rule_source(&rule.source));
            }
        }
        if self.security_groups.is_empty() && self.new_group.is_none() {
            check(Err(Invalid {
                field: "security_groups",
                message: "choose a security group or create one".to_owned(),
            }));
        }
        if let Some(subnet) = &self.subnet_id {
            check(validate::subnet_id(subnet));
        }
        if self.spot {
            check(validate::spot_max_price(&self.spot_max_price));
        }
        if let Some(name) = &self.instance_profile {
            check(validate::instance_profile_name(name));
        }
        match (&self.key_name, &self.new_key) {
            (Some(_), Some(_)) => check(Err(Invalid {
                field: "key_name",
                message: "choose an existing key pair or a new one, not both".to_owned(),
            })),
            (Some(name), None) => check(validate::key_pair_name(name)),
            (None, Some(key)) => {
                check(validate::key_pair_name(&key.name));
                if let Some(public_key) = &key.public_key {
                    check(validate::public_key(public_key));
                }
            }
            (None, None) if !self.no_key_acknowledged => check(Err(Invalid {
                field: "key_name",
                message: "choose a key pair, or acknowledge launching without one (no SSH access)"
                    .to_owned(),
            })),
            (None, None) => {}
        }
        if self.client_token.is_empty() || self.client_token.len() > 64 {
            check(Err(Invalid {
                field: "client_token",
                message: "must be 1 to 64 characters".to_owned(),
            }));
        }
        problems
    }
}

/// What names each step of the wizard in an error: the fields of [`WizardRequest::problems`]
/// (`field: …`) and EC2's error codes (`… (Code)`).
const STEP_MARKS: [(&str, &str); 28] = [
    ("image_id:", "ami"),
    ("(InvalidAMIID", "ami"),
    ("instance_type:", "hardware"),
    ("(InvalidInstanceType", "hardware"),
    ("(InsufficientInstanceCapacity", "hardware"),
    ("(Unsupported", "hardware"),
    ("count:", "configure"),
    ("user_data:", "configure"),
    ("subnet_id:", "configure"),
    ("(InvalidSubnet", "configure"),
    ("spot_max_price:", "configure"),
    ("(SpotMaxPriceTooLow", "configure"),
    ("instance_profile:", "configure"),
    ("(InstanceLimitExceeded", "configure"),
    ("tags:", "tags"),
    ("(InvalidTag", "tags"),
    ("key_name:", "keys"),
    ("public_key:", "keys"),
    ("(InvalidKeyPair", "keys"),
    ("(InvalidKey.", "keys"),
    ("security_groups:", "network"),
    ("group_name:", "network"),
    ("source:", "network"),
    ("ports:", "network"),
    ("cidr:", "network"),
    ("protocol:", "network"),
    ("(InvalidGroup", "network"),
    ("(InvalidPermission", "network"),
];

/// The step (its route segment) that an error of the launch or of its dry run concerns: the
/// first field or EC2 error code it names.
pub fn step_of(message: &str) -> Option<&'static str> {
    STEP_MARKS
        .iter()
        .filter_map(|(mark, step)| message.find(mark).map(|at| (at, *step)))
        .min()
        .map(|(_, step)| step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_taken_back_to_their_step() {
        assert_eq!(
            step_of("The key pair 'deploy' already exists. (InvalidKeyPair.Duplicate)"),
            Some("keys")
        );
        assert_eq!(
            step_of("tags: at most 50 tags; ports: 70000 is not within 0-65535"),
            Some("tags")
        );
        assert_eq!(
            step_of("image_id: no AMI ami-0123456789abcdef0 in us-east-1"),
            Some("ami")
        );
        assert_eq!(step_of("cannot reach EC2 at http://x: refused"), None);
    }

    fn request() -> WizardRequest {
        WizardRequest {
            image_id: "ami-12c6146b".to_owned(),
            instance_type: "t3.micro".to_owned(),
            count: 2,
            detailed_monitoring: true,
            tags: vec![("Name".to_owned(), "web".to_owned())],
            new_group: Some(NewGroup {
                name: "web".to_owned(),
                rules: vec![NewRule {
                    protocol: "tcp".to_owned(),
                    ports: "80".to_owned(),
                    source: "0.0.0.0/0".to_owned(),
                }],
            }),
            key_name: Some("deploy".to_owned()),
            client_token: "token-1".to_owned(),
            ..WizardRequest::default()
        }
    }

    /// Spoils one thing of a good request.
    type Breaker = Box<dyn Fn(&mut WizardRequest)>;

    fn fields(request: &WizardRequest) -> Vec<&'static str> {
        request.problems().iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_complete_request_passes() {
        assert_eq!(request().problems(), []);
    }

    #[test]
    fn each_bad_input_is_named() {
        let cases: Vec<(&str, Breaker)> = vec![
            (
                "tags",
                Box::new(|r| r.tags = (0..51).map(|n| (format!("k{n}"), String::new())).collect()),
            ),
            (
                "tags",
                Box::new(|r| r.tags.push(("aws:owner".to_owned(), "x".to_owned()))),
            ),
            (
                "tags",
                Box::new(|r| r.tags.push(("k".repeat(129), "x".to_owned()))),
            ),
            (
                "tags",
                Box::new(|r| r.tags.push(("Name".to_owned(), "again".to_owned()))),
            ),
            (
                "tags",
                Box::new(|r| r.tags.push(("Team".to_owned(), "v".repeat(257)))),
            ),
            (
                "cidr",
                Box::new(|r| {
                    r.new_group.as_mut().expect("group").rules[0].source = "10.0.0.0/33".to_owned()
                }),
            ),
            (
                "ports",
                Box::new(|r| {
                    r.new_group.as_mut().expect("group").rules[0].ports = "70000".to_owned()
                }),
            ),
            (
                "ports",
                Box::new(|r| {
                    r.new_group.as_mut().expect("group").rules[0].ports = "90-80".to_owned()
                }),
            ),
            ("count", Box::new(|r| r.count = 0)),
            ("image_id", Box::new(|r| r.image_id = "ubuntu".to_owned())),
            (
                "user_data",
                Box::new(|r| r.user_data = "x".repeat(MAX_USER_DATA + 1)),
            ),
            ("key_name", Box::new(|r| r.key_name = None)),
            (
                "key_name",
                Box::new(|r| {
                    r.new_key = Some(NewKey {
                        name: "second".to_owned(),
                        public_key: None,
                    })
                }),
            ),
            (
                "public_key",
                Box::new(|r| {
                    r.key_name = None;
                    r.new_key = Some(NewKey {
                        name: "imported".to_owned(),
                        public_key: Some("ssh-dss AAAA".to_owned()),
                    });
                }),
            ),
            (
                "source",
                Box::new(|r| {
                    r.new_group.as_mut().expect("group").rules[0].source = "sg-web".to_owned()
                }),
            ),
            (
                "spot_max_price",
                Box::new(|r| {
                    r.spot = true;
                    r.spot_max_price = "cheap".to_owned();
                }),
            ),
            (
                "subnet_id",
                Box::new(|r| r.subnet_id = Some("subnet-12".to_owned())),
            ),
            (
                "instance_profile",
                Box::new(|r| r.instance_profile = Some("web role".to_owned())),
            ),
            ("security_groups", Box::new(|r| r.new_group = None)),
        ];
        for (field, break_it) in cases {
            let mut bad = request();
            break_it(&mut bad);
            assert_eq!(fields(&bad), [field], "{:?}", bad.problems());
        }
        let mut keyless = request();
        keyless.key_name = None;
        keyless.no_key_acknowledged = true;
        assert_eq!(keyless.problems(), []);
    }

    #[test]
    fn sensitive_ports_open_to_everyone_are_warned_about() {
        let rule = |ports: &str, source: &str| NewRule {
            protocol: "tcp".to_owned(),
            ports: ports.to_owned(),
            source: source.to_owned(),
        };
        assert!(
            rule("22", "0.0.0.0/0")
                .warning()
                .is_some_and(|w| w.contains("SSH"))
        );
        assert!(
            rule("5000-6000", "::/0")
                .warning()
                .is_some_and(|w| w.contains("PostgreSQL"))
        );
        assert_eq!(rule("22", "198.51.100.0/24").warning(), None);
        assert_eq!(rule("443", "0.0.0.0/0").warning(), None);
        assert!(
            rule("443", "127.0.0.1/32")
                .warning()
                .is_some_and(|w| w.contains("loopback"))
        );
    }
}
