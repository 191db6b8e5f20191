//! When a change was made, judged from what the server saw: every change
//! carries its author's timestamp, and an honest client stamps the time it
//! acted. A change made offline arrives late and is judged as the document
//! stood when it was made (at its dependencies). A change stamped at a time
//! when the server saw its author connected should have arrived then: one
//! that turns up later is backdated, and is refused. One made while online
//! is judged against the server's document as it is now, too, so stale
//! dependencies cannot make a resolved or someone else's conversation look
//! open to a reply.

use serde::{Deserialize, Serialize};

use super::Violation;
use crate::limits::{MAX_CLOCK_SKEW_MS, ONLINE_MARGIN_MS};
use crate::model::Millis;

/// One connection of an agent, as the server recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: Millis,
    /// `None` while the connection is open.
    pub end: Option<Millis>,
}

/// What the server knows of when an agent was online.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineHistory {
    /// When the agent first connected, ever; `None` if never seen.
    pub first: Option<Millis>,
    /// Recent connections (the server keeps a window of them), any order.
    pub spans: Vec<Span>,
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
    /// Intervals the agent was online: spans merged when the gap between
    /// them is shorter than twice the margin, so reconnecting often never
    /// opens a window to stamp into.
    fn merged(&self) -> Vec<(Millis, Option<Millis>)> {
        let mut spans = self.spans.clone();
        spans.sort_by_key(|s| s.start);
        let mut merged: Vec<(Millis, Option<Millis>)> = Vec::new();
        for span in spans {
            match merged.last_mut() {
                Some((_, end)) if end.is_none_or(|e| span.start <= e + 2 * ONLINE_MARGIN_MS) => {
                    *end = match (*end, span.end) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        _ => None,
                    };
                }
                _ => merged.push((span.start, span.end)),
            }
        }
        merged
    }

    /// Whether the server saw the agent online at `at`, by a margin wide
    /// enough for clock skew and a socket's unnoticed death.
    pub fn online_at(&self, at: Millis) -> bool {
        self.merged().into_iter().any(|(start, end)| {
            start.saturating_add(ONLINE_MARGIN_MS) <= at
                && end.is_none_or(|end| at <= end.saturating_sub(ONLINE_MARGIN_MS))
        })
    }

    /// Judges a change stamped `at` that arrives at `now`.
    pub fn judge(&self, at: Millis, now: Millis) -> Result<Made, Violation> {
        if let Some(first) = self.first
            && at < first.saturating_sub(ONLINE_MARGIN_MS)
        {
            return Err(Violation::Backdated { at, now });
        }
        if !self.online_at(at) {
            return Ok(Made::Offline);
        }
        if at < now.saturating_sub(MAX_CLOCK_SKEW_MS) {
            return Err(Violation::Backdated { at, now });
        }
        Ok(Made::Online)
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
    fn offline_work_is_judged_at_its_dependencies_however_late() {
        // Online until minute 10, offline until 70, online since.
        let h = history(&[(0, Some(10 * MIN)), (70 * MIN, None)]);
        let now = 71 * MIN;
        assert_eq!(h.judge(40 * MIN, now), Ok(Made::Offline));
        assert_eq!(h.judge(10 * MIN + 1, now), Ok(Made::Offline), "just after");
        assert!(h.judge(5 * MIN, now).is_err(), "while still online");
    }

    #[test]
    fn reconnecting_often_opens_no_window() {
        let spans: Vec<_> = (0..30).map(|i| (i * MIN, Some(i * MIN + 50_000))).collect();
        let h = history(&spans);
        for at in (2 * MIN..28 * MIN).step_by(7_000) {
            assert!(h.judge(at, 40 * MIN).is_err(), "at {at}");
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
