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
    let digits = id.strip_prefix("i-").unwrap_or("");
    if is_lower_hex(digits) && matches!(digits.len(), 8 | 17) {
        Ok(())
    } else {
        Err(invalid(
            "instance_ids",
            format!(
                "{id:?} is not an instance id (i- and 8 or 17 hex digits, e.g. i-0abc12345def67890)"
            ),
        ))
    }
}

/// A security group id: `sg-` and 8 or 17 lowercase hexadecimal digits.
pub fn security_group_id(id: &str) -> Result<(), Invalid> {
    let digits = id.strip_prefix("sg-").unwrap_or("");
    if is_lower_hex(digits) && matches!(digits.len(), 8 | 17) {
        Ok(())
    } else {
        Err(invalid(
            "ids",
            format!("{id:?} is not a security group id (sg- and 8 or 17 hex digits)"),
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

#[cfg(test)]
mod tests {
    use super::*;

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
