//! When a change was made, judged from what the server saw. Every change
//! carries its author's timestamp, and an honest client stamps the time it
//! acted and sends the change as soon as it can:
//! - a change stamped while the server saw its author connected arrives
//!   then (within clock skew); one that turns up later is backdated;
//! - a change made offline arrives as soon as its author is back; one that
//!   turns up long after they came back is backdated too;
//! - nothing is made before its author ever connected.
//!
//! A change made while online is judged against the server's document as
//! it is now, as well as at its dependencies, so stale dependencies cannot
//! make a claimed, resolved or someone else's conversation look open.
//! Offline work is judged at its dependencies, and concurrency is settled
//! by the rules afterwards.

use serde::{Deserialize, Serialize};

use super::Violation;
use crate::limits;
use crate::model::Millis;

/// One connection of an agent, as the server recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// When the connection opened.
    pub start: Millis,
    /// The last time the server heard from the connection once it ended;
    /// `None` while it is open.
    pub end: Option<Millis>,
}

/// How far to trust the edges of what the server saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Windows {
    /// After a connection opens: a clock running fast stamps offline work
    /// as if made after it.
    pub start_margin: Millis,
    /// Before a connection ends: a socket that died silently still looked
    /// alive until the next heartbeat (or the process's last touch).
    pub end_margin: Millis,
    /// How late offline work may arrive after its author reconnected.
    pub replay: Millis,
    /// How late a change made online may arrive (clock skew).
    pub grace: Millis,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            start_margin: limits::ONLINE_START_MARGIN_MS,
            end_margin: limits::ONLINE_END_MARGIN_MS,
            replay: limits::OFFLINE_REPLAY_MS,
            grace: limits::MAX_CLOCK_SKEW_MS,
        }
    }
}

impl Windows {
    /// Every window divided by `by` (tests of minutes run in milliseconds).
    pub fn scaled_down(by: Millis) -> Self {
        let d = Windows::default();
        let by = by.max(1);
        Windows {
            start_margin: d.start_margin / by,
            end_margin: d.end_margin / by,
            replay: d.replay / by,
            grace: d.grace / by,
        }
    }
}

/// What the server knows of when an agent was online.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineHistory {
    /// When the agent first connected, ever; `None` if never seen.
    pub first: Option<Millis>,
    /// Recent connections (the server keeps a window of them), any order.
    pub spans: Vec<Span>,
    /// How far to trust the edges of the spans.
    #[serde(default)]
    pub windows: Windows,
}

/// How a change came to be, from its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    /// While the server saw the author online: the server's state applies.
    Online,
    /// While the author was offline (or too close to a connection's edges
    /// to tell): judged at the change's dependencies.
    Offline,
}

impl OnlineHistory {
    /// Whether the server surely saw the agent online at `at`.
    pub fn online_at(&self, at: Millis) -> bool {
        let w = self.windows;
        self.spans.iter().any(|span| {
            span.start.saturating_add(w.start_margin) <= at
                && span
                    .end
                    .is_none_or(|end| at <= end.saturating_sub(w.end_margin))
        })
    }

    /// Judges a change stamped `at` that arrives at `now`.
    pub fn judge(&self, at: Millis, now: Millis) -> Result<Made, Violation> {
        let w = self.windows;
        let backdated = |why: &str| {
            Err(Violation::Backdated {
                at,
                now,
                why: why.to_owned(),
            })
        };
        if self
            .first
            .is_some_and(|first| at < first.saturating_sub(w.start_margin))
        {
            return backdated("before you ever connected");
        }
        if self.online_at(at) {
            if at < now.saturating_sub(w.grace) {
                return backdated("at a time you were online, but it arrived only now");
            }
            return Ok(Made::Online);
        }
        // Offline work goes out as soon as its author is back.
        let back = self.spans.iter().map(|s| s.start).filter(|s| *s > at).min();
        if back.is_some_and(|back| now > back.saturating_add(w.replay)) {
            return backdated("while you were offline, but it arrived long after you came back");
        }
        Ok(Made::Offline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Millis = 60_000;

    fn history(spans: &[(Millis, Option<Millis>)]) -> OnlineHistory {
        OnlineHistory {
            first: spans.iter().map(|s| s.0).min(),
            spans: spans
                .iter()
                .map(|&(start, end)| Span { start, end })
                .collect(),
            windows: Windows::default(),
        }
    }

    #[test]
    fn a_change_stamped_while_connected_must_arrive_then() {
        let h = history(&[(0, None)]);
        let now = 60 * MIN;
        assert_eq!(h.judge(now - 1_000, now), Ok(Made::Online));
        assert!(
            h.judge(now - 10 * MIN, now).is_err(),
            "backdated 10 minutes"
        );
    }

    #[test]
    fn offline_work_sent_on_return_is_judged_at_its_dependencies_however_old() {
        // Online until minute 10, offline until 70, online since.
        let h = history(&[(0, Some(10 * MIN)), (70 * MIN, None)]);
        let now = 70 * MIN + 5_000;
        assert_eq!(h.judge(40 * MIN, now), Ok(Made::Offline));
        assert_eq!(h.judge(10 * MIN + 1, now), Ok(Made::Offline), "just after");
        assert!(h.judge(5 * MIN, now).is_err(), "while still online");
    }

    #[test]
    fn offline_work_that_waits_long_after_the_return_is_backdated() {
        let h = history(&[(0, Some(10 * MIN)), (70 * MIN, None)]);
        assert!(h.judge(40 * MIN, 90 * MIN).is_err());
    }

    #[test]
    fn reconnecting_often_opens_windows_only_briefly() {
        let spans: Vec<_> = (0..30).map(|i| (i * MIN, Some(i * MIN + 59_000))).collect();
        let h = history(&spans);
        // A gap minutes ago: its author came back long since.
        for at in (MIN..20 * MIN).step_by(7_000) {
            assert!(h.judge(at, 30 * MIN).is_err(), "at {at}");
        }
    }

    #[test]
    fn nothing_before_the_first_connection() {
        let h = history(&[(100 * MIN, None)]);
        assert!(h.judge(50 * MIN, 101 * MIN).is_err());
        let never = OnlineHistory::default();
        assert_eq!(never.judge(5, 10 * MIN), Ok(Made::Offline));
    }
}
