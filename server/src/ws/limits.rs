//! Per-connection limits: frame size, message rate, heartbeat, idle timeout.

use std::time::{Duration, Instant};

/// Limits of one sync connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest frame a peer may send, in bytes.
    pub max_frame: usize,
    /// Sustained messages per second a peer may send …
    pub rate: f64,
    /// … with bursts up to this many.
    pub burst: f64,
    /// A ping goes out this often.
    pub heartbeat: Duration,
    /// A peer silent this long (not even a pong) is disconnected.
    pub idle: Duration,
    /// Bytes of a peer's changes that may wait, across its documents, for a
    /// change they depend on (an honest peer's gap is a change or two).
    pub max_waiting: usize,
    /// A peer that takes longer than this to take one frame is cut off: it
    /// stopped reading, and must not hold its task or shutdown.
    pub send_timeout: Duration,
    /// Live connections one agent may have (tabs, devices, integrations).
    pub max_connections_per_agent: usize,
    /// Documents one connection may hold (the app holds every open
    /// conversation).
    pub max_documents: usize,
    /// Documents one catch-up answer lists; the peer asks for the next page.
    pub catch_up_page: u32,
    /// Catch-up requests per second a peer may make (with bursts of 10).
    pub catch_up_rate: f64,
    /// Stored bytes one read of a fetch holds: a fetch is read and sent in
    /// runs of documents this large (a larger document goes alone).
    pub fetch_read_bytes: usize,
    /// Presence messages per second a peer may send (with bursts of 20);
    /// the rest are dropped.
    pub presence_rate: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame: 1024 * 1024,
            // A browser catching up on 10,000 conversations sends about two
            // messages per document; it paces itself below these (app/src/state/pace.rs).
            rate: 1_000.0,
            burst: 30_000.0,
            heartbeat: Duration::from_secs(20),
            idle: Duration::from_secs(60),
            max_waiting: 1024 * 1024,
            send_timeout: Duration::from_secs(10),
            max_connections_per_agent: 20,
            max_documents: 100_000,
            catch_up_page: 2_000,
            catch_up_rate: 5.0,
            fetch_read_bytes: 4 * 1024 * 1024,
            presence_rate: 5.0,
        }
    }
}

/// A token bucket over the limits' rate and burst.
pub struct Bucket {
    tokens: f64,
    at: Instant,
    rate: f64,
    burst: f64,
}

impl Bucket {
    pub fn new(limits: &Limits) -> Self {
        Self::with(limits.rate, limits.burst)
    }

    /// A bucket refilling `rate` tokens a second, holding at most `burst`.
    pub fn with(rate: f64, burst: f64) -> Self {
        Bucket {
            tokens: burst,
            at: Instant::now(),
            rate,
            burst,
        }
    }

    /// Takes one token; `false` when the peer sends too fast.
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_and_a_flood_is_not() {
        let limits = Limits {
            rate: 10.0,
            burst: 5.0,
            ..Limits::default()
        };
        let mut bucket = Bucket::new(&limits);
        assert!((0..5).all(|_| bucket.take()));
        assert!(!bucket.take());
        std::thread::sleep(Duration::from_millis(150));
        assert!(bucket.take(), "tokens come back over time");
    }
}
