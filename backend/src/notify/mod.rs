//! Telling a team's tools of runs: `[[cluster.notify]]` receivers get a POST when a run starts,
//! ends well or badly, or waits for approval. Delivery happens in the background with a few
//! tries; it never delays or fails the run, and how it went is recorded with the run. A
//! receiver's URL is a secret: only its host name is ever shown, and never in a log.

mod body;
mod deliver;

pub use body::Summary;
pub use deliver::Notifier;

pub use knit_shared::webhooks::Event;
use knit_shared::webhooks::{check_url, host_of};

use crate::clusters::format::Cluster;

/// How a receiver wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// knit's run summary.
    Json,
    /// A Slack incoming webhook's message.
    Slack,
}

/// Why a receiver has no URL to be sent to.
#[derive(Debug, Clone, thiserror::Error)]
pub enum NoUrl {
    #[error("{0} is not set where the run ran")]
    Unset(String),
    /// A value that is not a URL (a secret, by mistake) is neither used nor shown.
    #[error("{0} holds no http:// or https:// address")]
    NotAUrl(String),
    #[error("no URL")]
    Missing,
}

/// A receiver, as the run's process resolved it.
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Its URL, or why there is none.
    pub url: Result<String, NoUrl>,
    pub on: Vec<Event>,
    pub format: Format,
}

impl Receiver {
    /// The host name shown for it: never more of the URL, nor of a value that is not one.
    pub fn shown(&self) -> String {
        match &self.url {
            Ok(url) => host_of(url).to_owned(),
            Err(NoUrl::NotAUrl(_)) => "(not a URL)".to_owned(),
            Err(NoUrl::Unset(_) | NoUrl::Missing) => "(no URL)".to_owned(),
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
                (None, None) => Err(NoUrl::Missing),
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

/// The URL in `variable` of this process's environment, checked as a URL.
fn from_env(variable: &str) -> Result<String, NoUrl> {
    let value = std::env::var(variable).map_err(|_| NoUrl::Unset(variable.to_owned()))?;
    check_url(&value).map_err(|_| NoUrl::NotAUrl(variable.to_owned()))?;
    Ok(value)
}
