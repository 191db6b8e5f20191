//! Hybrid logical timestamps: every `at` a replica writes is
//! `max(local clock, latest at already in the document + 1)`, so timestamps in
//! one document only move forward even when a machine's clock lags.

use crate::model::Millis;

/// The timestamp for the next write to a document whose latest `at` is `latest`.
pub fn next_at(now: Millis, latest: Millis) -> Millis {
    now.max(latest.saturating_add(1))
}

/// Milliseconds since the Unix epoch from the platform's clock.
#[cfg(not(target_arch = "wasm32"))]
pub fn now() -> Millis {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_never_go_backwards_within_a_document() {
        assert_eq!(next_at(5_000, 1_000), 5_000);
        assert_eq!(next_at(1_000, 5_000), 5_001);
        assert_eq!(next_at(5_000, 5_000), 5_001);
        assert_eq!(next_at(0, Millis::MAX), Millis::MAX);
    }
}
