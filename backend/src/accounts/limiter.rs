//! Slows password guessing: after too many failed sign-ins within a window, an account (or an
//! address) must wait until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Failed sign-ins remembered per account and per address.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures an account may have within the window.
pub const PER_ACCOUNT: usize = 5;
/// Failures an address may have within the window (it may try several accounts).
pub const PER_ADDRESS: usize = 20;
/// Beyond this many keys the oldest are dropped, so guessing names cannot fill the memory.
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: HashMap<String, VecDeque<Instant>>,
}

/// What a sign-in attempt is counted against.
fn keys(account: &str, address: Option<&str>) -> Vec<(String, usize)> {
    let mut keys = vec![(format!("account {account}"), PER_ACCOUNT)];
    if let Some(address) = address {
        keys.push((format!("address {address}"), PER_ADDRESS));
    }
    keys
}

impl LoginLimiter {
    /// How long the attempt must wait, if it must.
    pub fn wait(&mut self, account: &str, address: Option<&str>, now: Instant) -> Option<Duration> {
        self.forget_before(now);
        keys(account, address)
            .into_iter()
            .filter_map(|(key, limit)| {
                let failures = self.failures.get(&key)?;
                let oldest = failures.front()?;
                (failures.len() >= limit).then(|| WINDOW.saturating_sub(now - *oldest))
            })
            .max()
    }

    pub fn failed(&mut self, account: &str, address: Option<&str>, now: Instant) {
        if self.failures.len() >= MAX_KEYS {
            self.failures.clear();
        }
        for (key, _) in keys(account, address) {
            self.failures.entry(key).or_default().push_back(now);
        }
    }

    /// A right password clears the account's failures (not the address's).
    pub fn succeeded(&mut self, account: &str) {
        self.failures.remove(&format!("account {account}"));
    }

    fn forget_before(&mut self, now: Instant) {
        self.failures.retain(|_, failures| {
            while failures.front().is_some_and(|at| now - *at >= WINDOW) {
                failures.pop_front();
            }
            !failures.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_waits_after_five_failures_until_the_first_ages_out() {
        let mut limiter = LoginLimiter::default();
        let start = Instant::now();
        for attempt in 0..PER_ACCOUNT {
            assert_eq!(limiter.wait("ada", Some("10.0.0.1"), start), None);
            limiter.failed(
                "ada",
                Some("10.0.0.1"),
                start + Duration::from_secs(attempt as u64),
            );
        }
        let later = start + Duration::from_secs(60);
        assert_eq!(
            limiter.wait("ada", Some("10.0.0.2"), later),
            Some(WINDOW - Duration::from_secs(60))
        );
        assert_eq!(limiter.wait("bob", Some("10.0.0.1"), later), None);
        assert_eq!(
            limiter.wait("ada", None, start + WINDOW + Duration::from_secs(5)),
            None
        );
    }

    #[test]
    fn an_address_waits_after_twenty_failures_across_accounts() {
        let mut limiter = LoginLimiter::default();
        let now = Instant::now();
        for n in 0..PER_ADDRESS {
            limiter.failed(&format!("user{n}"), Some("10.0.0.9"), now);
        }
        assert!(limiter.wait("someone", Some("10.0.0.9"), now).is_some());
        assert_eq!(limiter.wait("someone", Some("10.0.0.8"), now), None);
    }

    #[test]
    fn a_right_password_clears_the_account() {
        let mut limiter = LoginLimiter::default();
        let now = Instant::now();
        for _ in 0..PER_ACCOUNT - 1 {
            limiter.failed("ada", None, now);
        }
        limiter.succeeded("ada");
        limiter.failed("ada", None, now);
        assert_eq!(limiter.wait("ada", None, now), None);
    }
}
