//! Throttled sign-ins in the audit log: one entry per address a minute, however fast it tries,
//! saying how many attempts the entries before it left out. A guesser cannot fill the log.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The least time between two entries of one address.
const EVERY: Duration = Duration::from_secs(60);
/// Beyond this many addresses, those whose minute has passed are forgotten.
const MAX_ADDRESSES: usize = 10_000;

#[derive(Debug, Default)]
pub struct ThrottleNotes {
    by_address: HashMap<String, Note>,
}

#[derive(Debug)]
struct Note {
    /// When the address's last entry was written.
    written: Instant,
    /// Throttled attempts since, not written one by one.
    untold: u64,
}

impl ThrottleNotes {
    /// Whether a throttled attempt from `address` at `now` gets an entry; then with the number
    /// of attempts left out since the address's entry before (0 when none was).
    pub fn note(&mut self, address: Option<&str>, now: Instant) -> Option<u64> {
        if self.by_address.len() >= MAX_ADDRESSES {
            self.by_address
                .retain(|_, note| now.duration_since(note.written) < EVERY);
        }
        let key = address.unwrap_or("").to_owned();
        match self.by_address.get_mut(&key) {
            Some(note) if now.duration_since(note.written) < EVERY => {
                note.untold += 1;
                None
            }
            Some(note) => {
                let untold = note.untold;
                *note = Note {
                    written: now,
                    untold: 0,
                };
                Some(untold)
            }
            None => {
                self.by_address.insert(
                    key,
                    Note {
                        written: now,
                        untold: 0,
                    },
                );
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_one_entry_a_minute_with_the_count_left_out() {
        let mut notes = ThrottleNotes::default();
        let start = Instant::now();
        assert_eq!(notes.note(Some("10.0.0.1"), start), Some(0));
        for second in 1..=30 {
            let now = start + Duration::from_secs(second);
            assert_eq!(notes.note(Some("10.0.0.1"), now), None);
        }
        assert_eq!(
            notes.note(Some("10.0.0.2"), start),
            Some(0),
            "another address"
        );
        let later = start + Duration::from_secs(61);
        assert_eq!(notes.note(Some("10.0.0.1"), later), Some(30));
        assert_eq!(notes.note(Some("10.0.0.1"), later), None);
    }
}
