//! Webhooks as a definition's `[[cluster.notify]]` names them: their events and addresses,
//! checked the same way where the definition is read and where a notification is sent. A
//! receiver's URL is a secret (it often holds a token), so a refusal never repeats it and only
//! its host is ever shown.

/// What a notification tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A run started (or, approved, began).
    Start,
    /// A run ended ok.
    Success,
    /// A run ended any other way.
    Failure,
    /// A run waits for an approver.
    Approval,
}

impl Event {
    /// Every event, as a receiver without `on` hears them.
    pub const ALL: [Self; 4] = [Self::Start, Self::Success, Self::Failure, Self::Approval];

    /// The event of `name` (`start`, `success`, `failure`, `approval`).
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == name)
    }

    /// Its name, as `on` and the notification say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Approval => "approval",
        }
    }
}

/// Whether `url` can receive notifications: http or https, with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !host_of(url).is_empty() && !rest.contains(char::is_whitespace) => Ok(()),
        _ => Err("a notify url must be an http:// or https:// address with a host".to_owned()),
    }
}

/// The host name of `url`, without user, port or path: all of it that may be shown.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    host.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(host, _)| host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_host_of_a_url_is_shown() {
        assert_eq!(
            host_of("https://hooks.slack.com/services/T0/B0/secret"),
            "hooks.slack.com"
        );
        assert_eq!(
            host_of("http://user:pw@127.0.0.1:8080/hook?k=v"),
            "127.0.0.1"
        );
        assert!(check_url("https://hooks.example/x").is_ok());
        let refused = check_url("ftp://secret-token@host").expect_err("refused");
        assert!(!refused.contains("secret-token"), "{refused}");
    }
}
