//! Telling a team's tools of runs: `[[cluster.notify]]` receivers get a POST when a run starts,
//! ends well or badly, or waits for approval. Delivery happens in the background with a few
//! tries; it never delays or fails the run, and how it went is recorded with the run. A
//! receiver's URL is a secret: only its host name is ever shown, and never in a log.

mod body;
mod deliver;

pub use body::Summary;
pub use deliver::Notifier;

use crate::clusters::format::Cluster;

/// What a notification tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Start,
    Success,
    Failure,
    Approval,
}

impl Event {
    pub const ALL: [Self; 4] = [Self::Start, Self::Success, Self::Failure, Self::Approval];

    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Approval => "approval",
        }
    }
}

/// How a receiver wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// knit's run summary.
    Json,
    /// A Slack incoming webhook's message.
    Slack,
}

/// A receiver, as the run's process resolved it.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Its URL, or why there is none (its variable is not set).
    pub url: Result<String, String>,
    pub on: Vec<Event>,
    pub format: Format,
}

impl Receiver {
    /// The host name shown for it: never more of the URL, nor of a value that is not one.
    pub fn shown(&self) -> String {
        match &self.url {
            Ok(url) => host_of(url).to_owned(),
            Err(why) if why.ends_with(NOT_A_URL) => "(not a URL)".to_owned(),
            Err(_) => "(no URL)".to_owned(),
        }
    }
}

/// The receivers of `cluster`, their URLs read now (from this process's environment for
/// `url_env`).
pub fn receivers(cluster: &Cluster) -> Vec<Receiver> {
    cluster
        .notify
        .iter()
        .map(|entry| {
            let entry = entry.get_ref();
            let url = match (&entry.url, &entry.url_env) {
                (Some(url), _) => Ok(url.get_ref().clone()),
                (None, Some(variable)) => from_env(variable.get_ref()),
                (None, None) => Err("no URL".to_owned()),
            };
            let on: Vec<Event> = entry
                .on
                .iter()
                .filter_map(|name| Event::named(name.get_ref()))
                .collect();
            Receiver {
                url,
                on: if on.is_empty() {
                    Event::ALL.to_vec()
                } else {
                    on
                },
                format: match entry
                    .format
                    .as_ref()
                    .map(|format| format.get_ref().as_str())
                {
                    Some("slack") => Format::Slack,
                    _ => Format::Json,
                },
            }
        })
        .collect()
}

/// The end of the reason a variable's value is not used: it is not a URL.
const NOT_A_URL: &str = "holds no http:// or https:// address";

/// The URL in `variable` of this process's environment, checked as a URL: a variable that
/// holds something else (a secret, by mistake) is neither used nor shown.
fn from_env(variable: &str) -> Result<String, String> {
    let value =
        std::env::var(variable).map_err(|_| format!("{variable} is not set where the run ran"))?;
    check_url(&value).map_err(|_| format!("{variable} {NOT_A_URL}"))?;
    Ok(value)
}

/// Whether `url` can receive notifications: http or https, with a host.
pub fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !host_of(url).is_empty() && !rest.contains(char::is_whitespace) => Ok(()),
        // The URL itself is a secret: not repeated in the message.
        _ => Err("a notify url must be an http:// or https:// address with a host".to_owned()),
    }
}

/// The host name of `url`, without user, port or path.
fn host_of(url: &str) -> &str {
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
