//! A sliding-window limit on failed attempts per key (an account, an IP).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts failures per key within a window.
pub struct RateLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub fn new(max_failures: usize, window: Duration) -> Self {
        RateLimiter {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when `key` has used up its failures.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(times) = failures.get_mut(key) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            times.pop_front();
        }
        if times.len() < self.max_failures {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1))
    }

    /// Records a failed attempt for `key`.
    pub fn fail(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        // Bound memory: forget the quietest keys when too many accumulate.
        if failures.len() > 100_000 {
            failures.clear();
        }
        failures
            .entry(key.to_owned())
            .or_default()
            .push_back(Instant::now());
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub fn clear(&self, key: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_blocked_after_its_failures_and_others_are_not() {
        let limiter = RateLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.check("ana").is_ok());
            limiter.fail("ana");
        }
        let wait = limiter.check("ana").unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check("ben").is_ok());
        limiter.clear("ana");
        assert!(limiter.check("ana").is_ok());
    }

    #[test]
    fn failures_expire_after_the_window() {
        let limiter = RateLimiter::new(1, Duration::from_millis(10));
        limiter.fail("ip");
        assert!(limiter.check("ip").is_err());
        std::thread::sleep(Duration::from_millis(20));
        assert!(limiter.check("ip").is_ok());
    }
}
