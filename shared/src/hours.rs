//! Business hours: the days and the time of day the team works, in the
//! workspace's time zone. The zone is a fixed offset from UTC in minutes, so
//! the app and the server compute the same answer with no time zone database
//! (see docs/decisions.md); an admin changes it when daylight saving does.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::model::Millis;

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;
/// Minutes in a day: `opens` and `closes` are below it.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// A day of the week, Monday first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Every day of the week, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// The stored spelling: `mon`, `tue`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Monday => "mon",
            Weekday::Tuesday => "tue",
            Weekday::Wednesday => "wed",
            Weekday::Thursday => "thu",
            Weekday::Friday => "fri",
            Weekday::Saturday => "sat",
            Weekday::Sunday => "sun",
        }
    }

    /// The weekday of day `days` after 1970-01-01 (a Thursday).
    fn from_epoch_day(days: i64) -> Weekday {
        Weekday::ALL[(days + 3).rem_euclid(7) as usize]
    }

    fn before(self) -> Weekday {
        Weekday::ALL[(self as usize + 6) % 7]
    }
}

impl fmt::Display for Weekday {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Weekday {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Weekday::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown weekday {s:?} (mon, tue, … sun)"))
    }
}

/// When the team works, for the business-hours conditions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BusinessHours {
    /// The workspace's time zone as minutes east of UTC (e.g. 60 for CET,
    /// -300 for New York in winter).
    pub utc_offset_minutes: i32,
    /// The days the team works; a span past midnight belongs to the day it opens.
    pub days: BTreeSet<Weekday>,
    /// Minute of the day the team starts (0–1439, local time).
    pub opens: u16,
    /// Minute of the day the team stops; earlier than `opens` for a night shift.
    pub closes: u16,
}

impl Default for BusinessHours {
    /// Monday to Friday, 09:00–17:00 UTC.
    fn default() -> Self {
        BusinessHours {
            utc_offset_minutes: 0,
            days: Weekday::ALL[..5].iter().copied().collect(),
            opens: 9 * 60,
            closes: 17 * 60,
        }
    }
}

impl BusinessHours {
    /// Whether `at` (ms since the epoch) falls within business hours.
    pub fn is_open(&self, at: Millis) -> bool {
        let local = at.saturating_add(i64::from(self.utc_offset_minutes) * MINUTE_MS);
        let day = Weekday::from_epoch_day(local.div_euclid(DAY_MS));
        let minute = (local.rem_euclid(DAY_MS) / MINUTE_MS) as u16;
        let works = |d: Weekday| self.days.contains(&d);
        if self.opens < self.closes {
            works(day) && (self.opens..self.closes).contains(&minute)
        } else {
            // A night shift: from `opens` on a working day to `closes` the next morning.
            (works(day) && minute >= self.opens) || (works(day.before()) && minute < self.closes)
        }
    }

    /// Whether the hours make sense; the text says what to fix.
    pub fn check(&self) -> Result<(), String> {
        if !(-12 * 60..=14 * 60).contains(&self.utc_offset_minutes) {
            return Err(format!(
                "a UTC offset is between -720 and 840 minutes, not {}",
                self.utc_offset_minutes
            ));
        }
        if self.opens >= MINUTES_PER_DAY || self.closes >= MINUTES_PER_DAY {
            return Err("opening and closing times are minutes of the day, 0 to 1439".to_owned());
        }
        if self.opens == self.closes {
            return Err("opening and closing times must differ".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-01 (a Monday) at `hh:mm` UTC, in ms.
    fn monday(hh: i64, mm: i64) -> Millis {
        1_704_067_200_000 + (hh * 60 + mm) * MINUTE_MS
    }

    #[test]
    fn weekdays_follow_the_calendar() {
        assert_eq!(Weekday::from_epoch_day(0), Weekday::Thursday);
        assert_eq!(
            Weekday::from_epoch_day(monday(0, 0) / DAY_MS),
            Weekday::Monday
        );
        assert_eq!(Weekday::from_epoch_day(-1), Weekday::Wednesday);
        assert_eq!("sat".parse::<Weekday>(), Ok(Weekday::Saturday));
        assert!("saturday".parse::<Weekday>().is_err());
    }

    #[test]
    fn nine_to_five_on_weekdays_in_utc() {
        let hours = BusinessHours::default();
        assert!(!hours.is_open(monday(8, 59)));
        assert!(hours.is_open(monday(9, 0)));
        assert!(hours.is_open(monday(16, 59)));
        assert!(!hours.is_open(monday(17, 0)));
        // Saturday at noon.
        assert!(!hours.is_open(monday(12, 0) + 5 * DAY_MS));
    }

    #[test]
    fn the_offset_moves_the_working_day() {
        let new_york = BusinessHours {
            utc_offset_minutes: -300,
            ..BusinessHours::default()
        };
        // 13:59 UTC is 08:59 in New York; 14:00 UTC is 09:00.
        assert!(!new_york.is_open(monday(13, 59)));
        assert!(new_york.is_open(monday(14, 0)));
        // Monday 01:00 UTC is still Sunday evening in New York.
        assert!(!new_york.is_open(monday(1, 0)));
        let tokyo = BusinessHours {
            utc_offset_minutes: 540,
            ..BusinessHours::default()
        };
        // Monday 00:30 UTC is 09:30 in Tokyo.
        assert!(tokyo.is_open(monday(0, 30)));
    }

    #[test]
    fn a_night_shift_runs_past_midnight_from_its_working_day() {
        let nights = BusinessHours {
            utc_offset_minutes: 0,
            days: [Weekday::Monday].into_iter().collect(),
            opens: 22 * 60,
            closes: 6 * 60,
        };
        assert!(nights.is_open(monday(23, 0)));
        assert!(nights.is_open(monday(5, 59) + DAY_MS)); // Tuesday 05:59
        assert!(!nights.is_open(monday(6, 0) + DAY_MS)); // Tuesday 06:00
        assert!(!nights.is_open(monday(5, 0))); // Monday 05:00: Sunday was off
        assert!(!nights.is_open(monday(12, 0)));
    }

    #[test]
    fn nonsense_hours_are_refused() {
        let far_east = BusinessHours {
            utc_offset_minutes: 900,
            ..BusinessHours::default()
        };
        assert!(far_east.check().is_err());
        let past_midnight = BusinessHours {
            closes: 1440,
            ..BusinessHours::default()
        };
        assert!(past_midnight.check().is_err());
        let mut hours = BusinessHours::default();
        hours.closes = hours.opens;
        assert!(hours.check().is_err());
        assert!(BusinessHours::default().check().is_ok());
    }
}
