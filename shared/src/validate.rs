//! Validation rules that run in the browser as you type and again on the server.

use std::fmt;

/// Why a value was refused, in words fit to show next to the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The field or parameter at fault, e.g. `region`.
    pub field: &'static str,
    /// What is wrong and what would be right.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

/// An EC2 instance id: `i-` and 8 or 17 lowercase hexadecimal digits.
pub fn instance_id(id: &str) -> Result<(), Invalid> {
    resource_id(id, "i-", "instance_ids", "an instance id")
}

/// A security group id: `sg-` and 8 or 17 lowercase hexadecimal digits.
pub fn security_group_id(id: &str) -> Result<(), Invalid> {
    resource_id(id, "sg-", "ids", "a security group id")
}

/// An id EC2 gives a resource: `prefix` and 8 or 17 lowercase hexadecimal digits; otherwise
/// `field`'s mistake, calling the value `what` it should be.
fn resource_id(id: &str, prefix: &str, field: &'static str, what: &str) -> Result<(), Invalid> {
    let digits = id.strip_prefix(prefix).unwrap_or("");
    if is_lower_hex(digits) && matches!(digits.len(), 8 | 17) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!(
                "{id:?} is not {what} ({prefix} and 8 or 17 hex digits, e.g. {prefix}0abc12345def67890)"
            ),
        ))
    }
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// An AWS region name such as `eu-west-1` or `us-gov-east-1`.
pub fn region(name: &str) -> Result<(), Invalid> {
    let parts: Vec<&str> = name.split('-').collect();
    let well_formed = parts.len() >= 3
        && parts.iter().all(|part| !part.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|part| part.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit());
    if well_formed {
        Ok(())
    } else {
        Err(invalid(
            "region",
            format!("{name:?} is not a region name (like eu-west-1)"),
        ))
    }
}

/// A CIDR block: an IPv4 or IPv6 address, `/`, and a prefix length that fits it.
pub fn cidr(block: &str) -> Result<(), Invalid> {
    let bad = || {
        invalid(
            "cidr",
            format!("{block:?} is not a CIDR block (like 203.0.113.0/24 or 2001:db8::/32)"),
        )
    };
    let (address, prefix) = block.split_once('/').ok_or_else(bad)?;
    let prefix: u8 = prefix.parse().map_err(|_| bad())?;
    let limit = match address.parse::<std::net::IpAddr>().map_err(|_| bad())? {
        std::net::IpAddr::V4(_) => 32,
        std::net::IpAddr::V6(_) => 128,
    };
    if prefix > limit {
        return Err(bad());
    }
    Ok(())
}

/// A port (`22`) or an inclusive range (`8000-8080`) within 0–65535, low end first.
pub fn port_range(ports: &str) -> Result<(u16, u16), Invalid> {
    let bad = |why: &str| invalid("ports", format!("{ports:?} {why}"));
    let (from, to) = ports.split_once('-').unwrap_or((ports, ports));
    let parse = |text: &str| {
        text.trim()
            .parse::<u16>()
            .map_err(|_| bad("is not a port or a range of ports within 0-65535"))
    };
    let (from, to) = (parse(from)?, parse(to)?);
    if from > to {
        return Err(bad("starts after it ends"));
    }
    Ok((from, to))
}

/// An AMI id: `ami-` and 8 or 17 lowercase hexadecimal digits.
pub fn image_id(id: &str) -> Result<(), Invalid> {
    resource_id(id, "ami-", "image_id", "an AMI id")
}

/// An instance type: family, a dot, size, e.g. `t3.micro`.
pub fn instance_type(name: &str) -> Result<(), Invalid> {
    let well_formed = name.split_once('.').is_some_and(|(family, size)| {
        !family.is_empty()
            && !size.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    });
    if well_formed {
        Ok(())
    } else {
        Err(invalid(
            "instance_type",
            format!("{name:?} is not an instance type (like t3.micro)"),
        ))
    }
}

/// How many instances: 1 to `max`.
pub fn instance_count(count: u32, max: u32) -> Result<(), Invalid> {
    if (1..=max).contains(&count) {
        Ok(())
    } else {
        Err(invalid(
            "count",
            format!("launch 1 to {max} instances, not {count}"),
        ))
    }
}

/// Tags as AWS takes them: at most `max`, keys of 1–128 characters not starting with `aws:`,
/// values of at most 256 characters, no key twice.
pub fn tags(tags: &[(String, String)], max: usize) -> Result<(), Invalid> {
    let bad = |message: String| Err(invalid("tags", message));
    if tags.len() > max {
        return bad(format!("at most {max} tags, not {}", tags.len()));
    }
    for (index, (key, value)) in tags.iter().enumerate() {
        let length = key.chars().count();
        if !(1..=128).contains(&length) {
            return bad(format!(
                "tag key {key:?} must have 1 to 128 characters, not {length}"
            ));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return bad(format!(
                "tag key {key:?}: the aws: prefix is reserved for AWS"
            ));
        }
        if value.chars().count() > 256 {
            return bad(format!(
                "the value of tag {key:?} is longer than 256 characters"
            ));
        }
        if tags[..index].iter().any(|(earlier, _)| earlier == key) {
            return bad(format!("tag key {key:?} appears twice"));
        }
    }
    Ok(())
}

/// User data of at most `max` bytes.
pub fn user_data(text: &str, max: usize) -> Result<(), Invalid> {
    if text.len() <= max {
        Ok(())
    } else {
        Err(invalid(
            "user_data",
            format!("{} bytes, more than the {max} EC2 accepts", text.len()),
        ))
    }
}

/// A security group name: 1–255 characters, not starting with `sg-`.
pub fn group_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() || name.len() > 255 || name.starts_with("sg-") {
        Err(invalid(
            "group_name",
            format!("{name:?} must have 1 to 255 characters and not start with sg-"),
        ))
    } else {
        Ok(())
    }
}

/// A rule's protocol: `tcp`, `udp`, `icmp` or `all`.
pub fn rule_protocol(protocol: &str) -> Result<(), Invalid> {
    if ["tcp", "udp", "icmp", "all"].contains(&protocol) {
        Ok(())
    } else {
        Err(invalid(
            "protocol",
            format!("{protocol:?} is not tcp, udp, icmp or all"),
        ))
    }
}

/// A key pair name: 1–255 printable ASCII characters.
pub fn key_pair_name(name: &str) -> Result<(), Invalid> {
    if !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_graphic() || c == ' ')
    {
        Ok(())
    } else {
        Err(invalid(
            "key_name",
            format!("{name:?} must have 1 to 255 printable ASCII characters"),
        ))
    }
}

/// Where a rule lets traffic in from: a CIDR block or another security group (`sg-…`).
pub fn rule_source(source: &str) -> Result<(), Invalid> {
    if source.starts_with("sg-") {
        resource_id(source, "sg-", "source", "a security group id")
    } else {
        cidr(source)
    }
}

/// A public key to import: OpenSSH's one-line form, `<type> <base64> [comment]`, of a type
/// EC2 imports (RSA, ED25519, ECDSA).
pub fn public_key(text: &str) -> Result<(), Invalid> {
    const TYPES: [&str; 4] = [
        "ssh-rsa",
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
    ];
    let mut parts = text.split_whitespace();
    let kind = parts.next().unwrap_or("");
    let body = parts.next().unwrap_or("");
    let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    if !TYPES.contains(&kind) {
        Err(invalid(
            "public_key",
            format!(
                "must start with one of {} (the contents of a .pub file)",
                TYPES.join(", ")
            ),
        ))
    } else if body.len() < 32 || !body.chars().all(base64) || text.lines().count() > 1 {
        Err(invalid(
            "public_key",
            "must be one line: the key type, its base64 body, and a comment if any",
        ))
    } else {
        Ok(())
    }
}

/// A spot maximum price in US dollars per hour: empty (up to the on-demand price) or a
/// positive decimal.
pub fn spot_max_price(price: &str) -> Result<(), Invalid> {
    let number = price.parse::<f64>();
    if price.is_empty()
        || (number.is_ok_and(|n| n > 0.0 && n < 1000.0)
            && price.chars().all(|c| c.is_ascii_digit() || c == '.'))
    {
        Ok(())
    } else {
        Err(invalid(
            "spot_max_price",
            format!("{price:?} is not a price in dollars per hour, e.g. 0.0125"),
        ))
    }
}

/// An IAM instance profile name: 1–128 letters, digits and `+=,.@_-`.
pub fn instance_profile_name(name: &str) -> Result<(), Invalid> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    if !name.is_empty() && name.len() <= 128 && name.chars().all(allowed) {
        Ok(())
    } else {
        Err(invalid(
            "instance_profile",
            format!(
                "{name:?} is not an instance profile name (1 to 128 letters, digits and +=,.@_-)"
            ),
        ))
    }
}

/// A subnet id: `subnet-` and 8 or 17 lowercase hexadecimal digits.
pub fn subnet_id(id: &str) -> Result<(), Invalid> {
    resource_id(id, "subnet-", "subnet_id", "a subnet id")
}

/// A VPC id: `vpc-` and 8 or 17 lowercase hexadecimal digits.
pub fn vpc_id(id: &str) -> Result<(), Invalid> {
    resource_id(id, "vpc-", "vpc_id", "a VPC id")
}

/// An account name: 1 to 64 lowercase letters, digits, `.`, `_` or `-`, starting with a letter or
/// digit; it is what the audit log shows.
pub fn user_name(name: &str) -> Result<(), Invalid> {
    if RESERVED_ACCOUNTS.contains(&name) {
        return Err(invalid(
            "name",
            format!("{name:?} is the name knit itself acts as in the audit log; choose another"),
        ));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if (1..=64).contains(&name.len())
        && name.chars().all(allowed)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        Ok(())
    } else {
        Err(invalid(
            "name",
            format!(
                "{name:?} is not an account name (1 to 64 lowercase letters, digits, '.', '_' or \
                 '-', starting with a letter or digit)"
            ),
        ))
    }
}

/// The account scheduled runs act as.
pub const SCHEDULE_ACCOUNT: &str = "schedule";

/// Names no account may have: scheduled runs act as `schedule`, and the server as `knit`.
pub const RESERVED_ACCOUNTS: [&str; 2] = [SCHEDULE_ACCOUNT, "knit"];

/// Shortest password knit accepts: long beats clever.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A new password: 12 to 1,024 characters.
pub fn password(text: &str) -> Result<(), Invalid> {
    let chars = text.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        Err(invalid(
            "password",
            format!("a password needs at least {MIN_PASSWORD_CHARS} characters; this has {chars}"),
        ))
    } else if chars > 1024 {
        Err(invalid(
            "password",
            "a password may have at most 1,024 characters",
        ))
    } else {
        Ok(())
    }
}

/// A token's label: 1 to 100 printable characters.
pub fn token_label(label: &str) -> Result<(), Invalid> {
    let chars = label.chars().count();
    if (1..=100).contains(&chars) && !label.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(invalid(
            "label",
            "say what the token is for in 1 to 100 printable characters",
        ))
    }
}

/// Days an API token lives unless its creator says otherwise.
pub const TOKEN_DAYS: u32 = 90;

/// A token's lifetime: 1 day up to `max_days`, the most this knit allows.
pub fn token_days(days: u32, max_days: u32) -> Result<(), Invalid> {
    if (1..=max_days).contains(&days) {
        Ok(())
    } else {
        Err(invalid(
            "expires_in_days",
            format!("a token lives 1 to {max_days} days, not {days}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_sources_are_blocks_or_groups() {
        assert!(rule_source("203.0.113.7/32").is_ok());
        assert!(rule_source("2001:db8::/64").is_ok());
        assert!(rule_source("sg-0123456789abcdef0").is_ok());
        for bad in ["sg-xyz", "10.0.0.0/33", "web", ""] {
            assert!(rule_source(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn public_keys_are_openssh_one_liners() {
        let body = "AAAAC3NzaC1lZDI1NTE5AAAAIHd1aW1pbGx5b3VrZWVwdGhpc2tleXNhZmU";
        assert!(public_key(&format!("ssh-ed25519 {body} ada@laptop")).is_ok());
        assert!(public_key(&format!("ssh-rsa {body}")).is_ok());
        for bad in [
            String::new(),
            format!("ssh-dss {body}"),
            "ssh-ed25519 short".to_owned(),
            format!("ssh-ed25519 {body}\nssh-ed25519 {body}"),
            "-----BEGIN OPENSSH PRIVATE KEY-----".to_owned(),
        ] {
            assert!(public_key(&bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn account_names_are_lowercase_words_and_passwords_are_long() {
        for good in ["ada", "ci-bot", "j.doe_2"] {
            assert!(user_name(good).is_ok(), "{good:?} refused");
        }
        for bad in [
            "",
            "Ada",
            "-ada",
            "a b",
            "ada@example",
            "schedule",
            "knit",
            &"a".repeat(65),
        ] {
            assert!(user_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(password("correct horse").is_ok());
        assert!(password("short pass!").is_err());
        assert!(password(&"x".repeat(1025)).is_err());
        assert!(token_label("ci deploys").is_ok());
        assert!(token_label("").is_err());
        assert!(token_label("two\nlines").is_err());
    }

    #[test]
    fn spot_prices_are_positive_dollars() {
        for good in ["", "0.0125", "2"] {
            assert!(spot_max_price(good).is_ok(), "{good:?} refused");
        }
        for bad in ["0", "-1", "abc", "1e3", "0.01 USD"] {
            assert!(spot_max_price(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn instance_ids_have_8_or_17_hex_digits() {
        assert!(instance_id("i-0abc12345def67890").is_ok());
        assert!(instance_id("i-1234abcd").is_ok());
        for bad in [
            "",
            "i-",
            "i-123",
            "i-0ABC12345DEF67890",
            "x-1234abcd",
            "i-1234abcg",
            "i-1234abcd ",
        ] {
            assert!(instance_id(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn security_group_ids_have_8_or_17_hex_digits() {
        assert!(security_group_id("sg-0123456789abcdef0").is_ok());
        assert!(security_group_id("sg-12345678").is_ok());
        assert!(security_group_id("sg-x").is_err());
        assert!(security_group_id("i-12345678").is_err());
    }

    #[test]
    fn cidr_blocks_need_an_address_and_a_fitting_prefix() {
        for good in [
            "0.0.0.0/0",
            "203.0.113.0/24",
            "10.0.0.1/32",
            "::/0",
            "2001:db8::/32",
        ] {
            assert!(cidr(good).is_ok(), "{good} refused");
        }
        for bad in [
            "",
            "10.0.0.0",
            "10.0.0.0/33",
            "2001:db8::/129",
            "10.0.0/8",
            "web/24",
        ] {
            assert!(cidr(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn port_ranges_are_ordered_and_in_range() {
        assert_eq!(port_range("22"), Ok((22, 22)));
        assert_eq!(port_range("8000-8080"), Ok((8000, 8080)));
        for bad in ["", "65536", "80-22", "x", "-1"] {
            assert!(port_range(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn regions_are_words_and_a_number() {
        for good in ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-2"] {
            assert!(region(good).is_ok(), "{good} refused");
        }
        for bad in [
            "",
            "useast1",
            "us-east",
            "US-EAST-1",
            "us--1",
            "us-east-1a",
            "../x-1",
        ] {
            assert!(region(bad).is_err(), "{bad:?} accepted");
        }
    }
}

/// Whatever a browser or a script sends, the rules answer and never panic; what they accept
/// is what the documentation says.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn no_text_makes_a_rule_panic(text in "\\PC{0,80}") {
            let _ = instance_id(&text);
            let _ = security_group_id(&text);
            let _ = region(&text);
            let _ = cidr(&text);
            let _ = port_range(&text);
            let _ = image_id(&text);
            let _ = instance_type(&text);
            let _ = user_data(&text, 16);
            let _ = group_name(&text);
            let _ = rule_protocol(&text);
            let _ = key_pair_name(&text);
            let _ = rule_source(&text);
            let _ = public_key(&text);
            let _ = spot_max_price(&text);
            let _ = subnet_id(&text);
            let _ = user_name(&text);
            let _ = password(&text);
            let _ = token_label(&text);
            let _ = instance_profile_name(&text);
            let _ = tags(&[(text.clone(), text.clone())], 50);
        }

        #[test]
        fn accepted_port_ranges_are_ordered(text in "[0-9 -]{0,13}") {
            if let Ok((from, to)) = port_range(&text) {
                prop_assert!(from <= to);
            }
        }

        #[test]
        fn an_ipv4_block_passes_exactly_when_its_prefix_fits(
            address in any::<[u8; 4]>(),
            prefix in 0_u8..=64,
        ) {
            let [a, b, c, d] = address;
            prop_assert_eq!(cidr(&format!("{a}.{b}.{c}.{d}/{prefix}")).is_ok(), prefix <= 32);
        }

        #[test]
        fn ids_pass_with_8_or_17_lowercase_hex_digits(digits in "[0-9a-f]{1,20}") {
            let fits = matches!(digits.len(), 8 | 17);
            prop_assert_eq!(instance_id(&format!("i-{digits}")).is_ok(), fits);
            prop_assert_eq!(image_id(&format!("ami-{digits}")).is_ok(), fits);
            prop_assert_eq!(subnet_id(&format!("subnet-{digits}")).is_ok(), fits);
            prop_assert_eq!(rule_source(&format!("sg-{digits}")).is_ok(), fits);
        }

        #[test]
        fn tag_keys_pass_unless_too_long_or_reserved(key in "\\PC{0,140}") {
            let length = key.chars().count();
            let allowed = (1..=128).contains(&length) && !key.to_ascii_lowercase().starts_with("aws:");
            prop_assert_eq!(tags(&[(key, String::new())], 50).is_ok(), allowed);
        }
    }
}
