//! What a notification says: knit's run summary as JSON, or a Slack message.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Event, Format};

/// A run as its notification tells it.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// `start`, `success`, `failure` or `approval`.
    pub event: &'static str,
    pub run: i64,
    pub cluster: String,
    pub scenario: String,
    /// Its parameters as they may be shown (secret ones masked).
    pub params: BTreeMap<String, String>,
    /// Who started it.
    pub by: String,
    /// The run's status when this was sent.
    pub status: String,
    /// Its hosts, and how many of them failed (at its end).
    pub hosts: usize,
    pub hosts_failed: usize,
    /// From its start to its end, at its end.
    pub duration_ms: Option<u64>,
    /// The run in the console (`--public-url`).
    pub link: Option<String>,
}

impl Summary {
    /// The body to POST for `format`.
    pub fn body(&self, format: Format) -> serde_json::Value {
        match format {
            Format::Json => serde_json::to_value(self).unwrap_or_default(),
            Format::Slack => serde_json::json!({ "text": self.slack_text() }),
        }
    }

    fn slack_text(&self) -> String {
        let what = format!("{} on {}", self.scenario, self.cluster);
        let with: String = self
            .params
            .iter()
            .map(|(name, value)| format!(" {name}={value}"))
            .collect();
        let took = self
            .duration_ms
            .map(|ms| format!(" in {:.1} s", ms as f64 / 1000.0))
            .unwrap_or_default();
        let text = match Event::named(self.event) {
            Some(Event::Start) => format!("{} started {what}{with}", self.by),
            Some(Event::Approval) => {
                format!("{what}{with} by {} waits for an approver", self.by)
            }
            Some(Event::Success) => format!(
                "{what}{with} by {} succeeded on {} hosts{took}",
                self.by, self.hosts
            ),
            _ => format!(
                "{what}{with} by {} {}: {} of {} hosts failed{took}",
                self.by, self.status, self.hosts_failed, self.hosts
            ),
        };
        match &self.link {
            Some(link) => format!("{text} <{link}|run {}>", self.run),
            None => format!("{text} (run {})", self.run),
        }
    }
}
