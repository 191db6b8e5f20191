//! When to try the socket again: exponential with full jitter, so a server
//! restart is not met by every client at the same instant.

/// First retry after about this long.
const BASE_MS: f64 = 500.0;
/// Never wait longer than this.
const CAP_MS: f64 = 30_000.0;

/// The delay before reconnect attempt `attempt` (0 = first), given a random
/// `jitter` in [0, 1): between half and all of the exponential step.
pub fn reconnect_delay_ms(attempt: u32, jitter: f64) -> u32 {
    let step = (BASE_MS * 2f64.powi(attempt.min(16) as i32)).min(CAP_MS);
    let jitter = jitter.clamp(0.0, 1.0);
    (step * (0.5 + 0.5 * jitter)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_stop_at_the_cap_and_jitter_spreads_them() {
        assert_eq!(reconnect_delay_ms(0, 0.0), 250);
        assert_eq!(reconnect_delay_ms(0, 1.0), 500);
        assert_eq!(reconnect_delay_ms(3, 1.0), 4_000);
        assert_eq!(reconnect_delay_ms(20, 1.0), 30_000);
        assert_eq!(reconnect_delay_ms(20, 0.0), 15_000);
        assert!(reconnect_delay_ms(2, 0.3) < reconnect_delay_ms(2, 0.9));
    }
}
