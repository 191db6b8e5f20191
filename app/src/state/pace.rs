//! How fast the app sends: a token bucket kept below the server's
//! per-connection limit, so catching up on thousands of conversations slows
//! down instead of getting the socket closed.

/// Frames per second once the burst is spent.
pub const RATE: f64 = 800.0;
/// Frames that may go at once.
pub const BURST: f64 = 20_000.0;

#[derive(Debug, Clone)]
pub struct Pace {
    tokens: f64,
    at_ms: f64,
}

impl Pace {
    pub fn new(now_ms: f64) -> Pace {
        Pace {
            tokens: BURST,
            at_ms: now_ms,
        }
    }

    /// Refills for the time since the last call and takes one token.
    pub fn take(&mut self, now_ms: f64) -> bool {
        let elapsed = (now_ms - self.at_ms).max(0.0) / 1000.0;
        self.at_ms = now_ms;
        self.tokens = (self.tokens + elapsed * RATE).min(BURST);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Milliseconds until one more token.
    pub fn wait_ms(&self) -> u32 {
        (((1.0 - self.tokens).max(0.0) / RATE) * 1000.0).ceil() as u32 + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_goes_at_once_then_the_rate_holds() {
        let mut pace = Pace::new(0.0);
        let sent = (0..25_000).filter(|_| pace.take(0.0)).count();
        assert_eq!(sent, BURST as usize);
        assert!(!pace.take(0.0));
        assert!(pace.wait_ms() >= 1);
        // One second later, RATE more.
        let later = (0..2_000).filter(|_| pace.take(1_000.0)).count();
        assert_eq!(later, RATE as usize);
    }
}
