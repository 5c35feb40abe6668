//! A scenario's schedule: a cron expression (five fields, or six with seconds first) read in a
//! time zone (UTC unless `timezone` names another), and whether a missed occurrence catches up.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

use super::format::Scenario;

#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    zone: Tz,
    /// The expression as written.
    pub expression: String,
    /// The zone's name.
    pub timezone: String,
    /// A missed occurrence runs once when the server starts.
    pub catch_up: bool,
}

/// Set (to anything) in knit's environment, schedules may run more often than once a minute:
/// for tests and demos, whose occurrences come seconds apart.
pub const SECONDS_ALLOWED: &str = "KNIT_SCHEDULE_SECONDS";

impl Schedule {
    /// The schedule of `scenario`, if it has one; a mistake comes with where it is in the file.
    pub fn of(scenario: &Scenario) -> Option<Result<Self, (usize, String)>> {
        Self::read(scenario, std::env::var_os(SECONDS_ALLOWED).is_some())
    }

    /// As `of`; more than one occurrence a minute only when `seconds_allowed`.
    fn read(scenario: &Scenario, seconds_allowed: bool) -> Option<Result<Self, (usize, String)>> {
        let expression = scenario.schedule.as_ref()?;
        if !seconds_allowed && more_than_once_a_minute(expression.get_ref()) {
            return Some(Err((
                expression.span().start,
                format!(
                    "schedule {:?} runs more than once a minute: give its seconds field one \
                     number (\"0 * * * * *\"), or write five fields",
                    expression.get_ref()
                ),
            )));
        }
        let cron = match Cron::from_str(expression.get_ref().trim()) {
            Ok(cron) => cron,
            Err(error) => {
                return Some(Err((
                    expression.span().start,
                    format!(
                        "schedule {:?} is not a cron expression ({error}): write five fields \
                         (minute hour day month weekday, e.g. \"0 3 * * *\"), or six with seconds first",
                        expression.get_ref()
                    ),
                )));
            }
        };
        let (zone, timezone) = match &scenario.timezone {
            None => (Tz::UTC, "UTC".to_owned()),
            Some(name) => match Tz::from_str(name.get_ref()) {
                Ok(zone) => (zone, name.get_ref().clone()),
                Err(_) => {
                    return Some(Err((
                        name.span().start,
                        format!(
                            "timezone {:?} is not a time zone: name one as the IANA database \
                             does, e.g. \"Europe/Prague\" or \"UTC\"",
                            name.get_ref()
                        ),
                    )));
                }
            },
        };
        Some(Ok(Self {
            cron,
            zone,
            expression: expression.get_ref().trim().to_owned(),
            timezone,
            catch_up: scenario.catch_up,
        }))
    }

    /// The latest occurrence at or before `at`.
    pub fn previous(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&self.zone);
        self.cron
            .find_previous_occurrence(&local, true)
            .ok()
            .map(|found| found.with_timezone(&Utc))
    }

    /// The first occurrence after `at`.
    pub fn next(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&self.zone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|found| found.with_timezone(&Utc))
    }
}

/// Whether cron `expression` has six fields whose first (the seconds) is not one number.
fn more_than_once_a_minute(expression: &str) -> bool {
    let fields: Vec<&str> = expression.split_whitespace().collect();
    fields.len() == 6 && fields[0].parse::<u8>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(text: &str) -> Option<Result<Schedule, (usize, String)>> {
        let scenario: Scenario =
            toml::from_str(&format!("steps = [\"db.dump\"]\n{text}")).expect("a scenario");
        Schedule::read(&scenario, true)
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a time")
            .with_timezone(&Utc)
    }

    #[test]
    fn occurrences_follow_the_expression_in_its_zone() {
        let nightly = schedule("schedule = \"0 3 * * *\"")
            .expect("scheduled")
            .expect("valid");
        assert_eq!(nightly.timezone, "UTC");
        assert_eq!(
            nightly.next(at("2026-11-30T12:00:00Z")),
            Some(at("2026-12-01T03:00:00Z"))
        );
        assert_eq!(
            nightly.previous(at("2026-11-30T12:00:00Z")),
            Some(at("2026-11-30T03:00:00Z"))
        );
        // 03:00 in Prague is 02:00 UTC in winter.
        let prague = schedule("schedule = \"0 3 * * *\"\ntimezone = \"Europe/Prague\"")
            .expect("scheduled")
            .expect("valid");
        assert_eq!(
            prague.next(at("2026-11-30T12:00:00Z")),
            Some(at("2026-12-01T02:00:00Z"))
        );
        let seconds = schedule("schedule = \"*/5 * * * * *\"")
            .expect("scheduled")
            .expect("valid");
        assert_eq!(
            seconds.next(at("2026-11-30T12:00:01Z")),
            Some(at("2026-11-30T12:00:05Z"))
        );
        assert!(schedule("").is_none());
    }

    #[test]
    fn more_than_once_a_minute_is_refused_unless_allowed() {
        let read = |text: &str| {
            let scenario: Scenario =
                toml::from_str(&format!("steps = [\"db.dump\"]\nschedule = \"{text}\""))
                    .expect("a scenario");
            Schedule::read(&scenario, false).expect("scheduled")
        };
        for often in ["*/2 * * * * *", "0,30 * * * * *", "* * * * * *"] {
            let (_, message) = read(often).expect_err(often);
            assert!(message.contains("more than once a minute"), "{message}");
        }
        for fine in ["* * * * *", "0 * * * * *", "30 0 3 * * *"] {
            assert!(read(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn mistakes_say_what_to_write() {
        let (_, message) = schedule("schedule = \"every night\"")
            .expect("scheduled")
            .expect_err("bad");
        assert!(message.contains("not a cron expression"), "{message}");
        let (_, message) = schedule("schedule = \"0 3 * * *\"\ntimezone = \"Mars/Olympus\"")
            .expect("scheduled")
            .expect_err("bad");
        assert!(message.contains("not a time zone"), "{message}");
    }
}
