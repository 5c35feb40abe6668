//! Rolling batches: how many hosts each batch of a run takes (`serial`), and the share of hosts
//! that may fail before a rollout stops (`max_fail_percentage`). The same reading of the same
//! words in the definition, the CLI, the API and the run dialog.

use serde::{Deserialize, Serialize};

/// The size of a batch: a number of hosts, or a share of all the run's hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "BatchSizeText", into = "BatchSizeText")]
pub enum BatchSize {
    /// This many hosts.
    Hosts(usize),
    /// 1 to 100.
    Percent(u8),
}

/// As written: `3` or `"25%"` (also `"3"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum BatchSizeText {
    Number(u64),
    Text(String),
}

impl TryFrom<BatchSizeText> for BatchSize {
    type Error = String;

    fn try_from(text: BatchSizeText) -> Result<Self, String> {
        match text {
            BatchSizeText::Number(count) => BatchSize::parse(&count.to_string()),
            BatchSizeText::Text(text) => BatchSize::parse(&text),
        }
    }
}

impl From<BatchSize> for BatchSizeText {
    fn from(size: BatchSize) -> Self {
        match size {
            BatchSize::Hosts(count) => BatchSizeText::Number(count as u64),
            BatchSize::Percent(share) => BatchSizeText::Text(format!("{share}%")),
        }
    }
}

impl BatchSize {
    /// `3` hosts, or `25%` of them; `Err` says how to write it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let wrong = || {
            format!(
                "a batch is a number of hosts (at least 1) or a share such as \"25%\" (1% to 100%), not {text:?}"
            )
        };
        match text.strip_suffix('%') {
            Some(share) => share
                .parse::<u8>()
                .ok()
                .filter(|share| (1..=100).contains(share))
                .map(BatchSize::Percent)
                .ok_or_else(wrong),
            None => text
                .parse::<usize>()
                .ok()
                .filter(|count| *count >= 1)
                .map(BatchSize::Hosts)
                .ok_or_else(wrong),
        }
    }

    /// Hosts in a batch of this size out of `total`: a share is rounded down, but at least 1.
    pub fn of(self, total: usize) -> usize {
        match self {
            BatchSize::Hosts(count) => count,
            BatchSize::Percent(share) => (total * usize::from(share) / 100).max(1),
        }
    }
}

impl std::fmt::Display for BatchSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchSize::Hosts(count) => write!(f, "{count}"),
            BatchSize::Percent(share) => write!(f, "{share}%"),
        }
    }
}

/// Reads `1,25%` (the CLI's `--serial`).
pub fn parse_serial(text: &str) -> Result<Vec<BatchSize>, String> {
    text.split(',').map(BatchSize::parse).collect()
}

/// The sizes of the batches of `total` hosts, Ansible's way: each size of `serial` in turn, the
/// last one again until every host has its batch. No `serial`: one batch of all.
pub fn batch_sizes(serial: &[BatchSize], total: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut left = total;
    let mut next = serial.iter();
    let mut size = total;
    while left > 0 {
        if let Some(given) = next.next() {
            size = given.of(total);
        }
        let taken = size.min(left).max(1);
        sizes.push(taken);
        left -= taken;
    }
    sizes
}

/// `max_fail_percentage`: 0 to 100.
pub fn check_max_fail(share: u8) -> Result<u8, String> {
    match share {
        0..=100 => Ok(share),
        _ => Err(format!(
            "max_fail_percentage is a share of the hosts from 0 to 100, not {share}"
        )),
    }
}

/// Whether `failed` hosts of `reached` (the hosts of the batches begun so far) are more than
/// `max_fail_percentage` allows.
pub fn over_threshold(failed: usize, reached: usize, max_fail_percentage: u8) -> bool {
    reached > 0 && failed * 100 > reached * usize::from(max_fail_percentage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_reads_numbers_and_shares() {
        assert_eq!(
            parse_serial("1, 25%"),
            Ok(vec![BatchSize::Hosts(1), BatchSize::Percent(25)])
        );
        for bad in ["0", "0%", "101%", "x", "-1", "", "2.5"] {
            assert!(BatchSize::parse(bad).is_err(), "{bad}");
        }
        let read: Vec<BatchSize> = serde_json::from_str(r#"[1, "25%", "3"]"#).expect("json");
        assert_eq!(
            read,
            [
                BatchSize::Hosts(1),
                BatchSize::Percent(25),
                BatchSize::Hosts(3)
            ]
        );
        assert!(serde_json::from_str::<BatchSize>(r#""150%""#).is_err());
    }

    #[test]
    fn batches_follow_the_list_and_repeat_its_last() {
        let serial = parse_serial("1,50%").expect("serial");
        assert_eq!(batch_sizes(&serial, 6), [1, 3, 2]);
        assert_eq!(batch_sizes(&serial, 1), [1]);
        assert_eq!(batch_sizes(&[], 4), [4]);
        assert_eq!(batch_sizes(&[BatchSize::Percent(10)], 5), [1, 1, 1, 1, 1]);
        assert_eq!(batch_sizes(&[BatchSize::Hosts(2)], 5), [2, 2, 1]);
        assert_eq!(batch_sizes(&[], 0), Vec::<usize>::new());
    }

    #[test]
    fn the_threshold_is_a_share_of_the_hosts_reached() {
        assert!(!over_threshold(1, 6, 20));
        assert!(over_threshold(2, 6, 20));
        assert!(over_threshold(1, 6, 0));
        assert!(!over_threshold(0, 6, 0));
        assert!(!over_threshold(6, 6, 100));
    }
}
