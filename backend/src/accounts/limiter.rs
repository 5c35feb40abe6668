//! Slows password guessing: after too many failed sign-ins within a window, an account (or an
//! address) must wait until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

/// Failed sign-ins remembered per account and per address.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures an account may have within the window.
pub const PER_ACCOUNT: usize = 5;
/// Failures an address may have within the window (it may try several accounts).
pub const PER_ADDRESS: usize = 20;
/// Beyond this many keys one is dropped for each new one, so guessing names cannot fill the
/// memory: the one whose last failure is oldest among those still under their limit (a
/// locked-out account or address is kept until its window passes).
const MAX_KEYS: usize = 10_000;

#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: HashMap<String, Failures>,
}

#[derive(Debug)]
struct Failures {
    limit: usize,
    times: VecDeque<Instant>,
}

impl Failures {
    fn locked(&self) -> bool {
        self.times.len() >= self.limit
    }
}

/// What a sign-in attempt is counted against. An IPv6 address counts with its /64: one
/// machine often has a whole /64 to pick addresses from.
fn keys(account: &str, address: Option<&str>) -> Vec<(String, usize)> {
    let mut keys = vec![(format!("account {account}"), PER_ACCOUNT)];
    if let Some(address) = address {
        let counted = match address.parse::<Ipv6Addr>() {
            Ok(v6) if v6.to_ipv4_mapped().is_none() => {
                let network = u128::from(v6) & !(u128::MAX >> 64);
                format!("{}/64", Ipv6Addr::from(network))
            }
            _ => address.to_owned(),
        };
        keys.push((format!("address {counted}"), PER_ADDRESS));
    }
    keys
}

impl LoginLimiter {
    /// How long the attempt must wait, if it must.
    pub fn wait(&mut self, account: &str, address: Option<&str>, now: Instant) -> Option<Duration> {
        self.forget_before(now);
        keys(account, address)
            .into_iter()
            .filter_map(|(key, _)| {
                let failures = self.failures.get(&key)?;
                let oldest = failures.times.front()?;
                failures
                    .locked()
                    .then(|| WINDOW.saturating_sub(now - *oldest))
            })
            .max()
    }

    pub fn failed(&mut self, account: &str, address: Option<&str>, now: Instant) {
        for (key, limit) in keys(account, address) {
            if !self.failures.contains_key(&key) && self.failures.len() >= MAX_KEYS {
                self.forget_before(now);
                self.drop_one();
            }
            self.failures
                .entry(key)
                .or_insert_with(|| Failures {
                    limit,
                    times: VecDeque::new(),
                })
                .times
                .push_back(now);
        }
    }

    /// A right password clears the account's failures (not the address's).
    pub fn succeeded(&mut self, account: &str) {
        self.failures.remove(&format!("account {account}"));
    }

    fn forget_before(&mut self, now: Instant) {
        self.failures.retain(|_, failures| {
            while failures.times.front().is_some_and(|at| now - *at >= WINDOW) {
                failures.times.pop_front();
            }
            !failures.times.is_empty()
        });
    }

    fn drop_one(&mut self) {
        let victim = self
            .failures
            .iter()
            .min_by_key(|(_, failures)| (failures.locked(), failures.times.back().copied()))
            .map(|(key, _)| key.clone());
        if let Some(key) = victim {
            self.failures.remove(&key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.failures.len()
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

    #[test]
    fn flooding_with_names_does_not_reset_a_locked_out_account() {
        let mut limiter = LoginLimiter::default();
        let now = Instant::now();
        for _ in 0..PER_ACCOUNT {
            limiter.failed("ada", None, now);
        }
        for n in 0..MAX_KEYS + 100 {
            limiter.failed(&format!("guess{n}"), None, now + Duration::from_secs(1));
        }
        assert!(limiter.len() <= MAX_KEYS);
        assert!(
            limiter
                .wait("ada", None, now + Duration::from_secs(2))
                .is_some()
        );
    }

    #[test]
    fn ipv6_addresses_count_per_64_bit_network() {
        let mut limiter = LoginLimiter::default();
        let now = Instant::now();
        for n in 0..PER_ADDRESS {
            limiter.failed(
                &format!("user{n}"),
                Some(&format!("2001:db8:1:2::{n:x}")),
                now,
            );
        }
        assert!(
            limiter
                .wait("x", Some("2001:db8:1:2:ffff::1"), now)
                .is_some()
        );
        assert_eq!(limiter.wait("x", Some("2001:db8:1:3::1"), now), None);
        // IPv4 addresses stay themselves.
        assert_eq!(limiter.wait("x", Some("10.0.0.1"), now), None);
    }
}
