//! Failed sign-ins, limited per account *and address* and per address, in
//! sliding windows.
//!
//! Failures at one address never lock the account elsewhere: the owner
//! signs in from their own address while someone else guesses. IPv6
//! addresses count per /64 (one host usually has the whole /64). Keys are
//! hashed to a fixed size, and the table is bounded: when it is full,
//! windows that have passed go first, then addresses below their limit;
//! a live lockout is never forgotten early. (Filling the table with live
//! lockouts would take far more password checks than the server can do in
//! a window: argon2 makes each one cost tens of milliseconds.)

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// A fixed-size key: part of the SHA-256 of what it names.
type Key = [u8; 16];

fn key(parts: &[&[u8]]) -> Key {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let mut key = [0; 16];
    key.copy_from_slice(&hasher.finalize()[..16]);
    key
}

/// The part of an address one client controls: all of IPv4, the /64 of IPv6.
fn address_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets()[..8].to_vec(),
        },
    }
}

/// Failures per key within a window, in a bounded table.
struct Window {
    max_failures: usize,
    window: Duration,
    capacity: usize,
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

impl Window {
    fn new(max_failures: usize, window: Duration, capacity: usize) -> Self {
        Window {
            max_failures,
            window,
            capacity,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn expire(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.window)
        {
            times.pop_front();
        }
    }

    /// `Err(seconds to wait)` when `key` has used up its failures.
    fn check(&self, key: &Key) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.lock();
        let Some(times) = failures.get_mut(key) else {
            return Ok(());
        };
        self.expire(times, now);
        if times.len() < self.max_failures {
            return Ok(());
        }
        let oldest = times.front().copied().unwrap_or(now);
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        Err(wait.as_secs().max(1))
    }

    /// Records a failure; `false` if the table is full of live lockouts.
    fn fail(&self, key: Key) -> bool {
        let now = Instant::now();
        let mut failures = self.lock();
        if !failures.contains_key(&key) && failures.len() >= self.capacity {
            failures.retain(|_, times| {
                self.expire(times, now);
                !times.is_empty()
            });
            if failures.len() >= self.capacity {
                let quietest = failures
                    .iter()
                    .filter(|(_, times)| times.len() < self.max_failures)
                    .min_by_key(|(_, times)| (times.len(), times.back().copied()))
                    .map(|(key, _)| *key);
                match quietest {
                    Some(quietest) => {
                        failures.remove(&quietest);
                    }
                    None => return false,
                }
            }
        }
        let times = failures.entry(key).or_default();
        times.push_back(now);
        // Only the latest failures within the limit matter.
        while times.len() > self.max_failures {
            times.pop_front();
        }
        true
    }

    fn clear(&self, key: &Key) {
        self.lock().remove(key);
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// The sign-in limiter: per account at one address, and per address.
pub struct LoginLimiter {
    per_account: Window,
    per_address: Window,
}

impl LoginLimiter {
    /// `per_account` failures of one account from one address, and
    /// `per_address` failures from one address, each within `window`.
    pub fn new(per_account: usize, per_address: usize, window: Duration, capacity: usize) -> Self {
        LoginLimiter {
            per_account: Window::new(per_account, window, capacity),
            per_address: Window::new(per_address, window, capacity),
        }
    }

    fn keys(email: &str, ip: IpAddr) -> (Key, Key) {
        let address = address_bytes(ip);
        let email = email.trim().to_lowercase();
        (
            key(&[b"account", email.as_bytes(), &address]),
            key(&[b"address", &address]),
        )
    }

    /// `Err(seconds to wait)` when `email` may not try again from `ip` yet.
    pub fn check(&self, email: &str, ip: IpAddr) -> Result<(), u64> {
        let (account, address) = Self::keys(email, ip);
        self.per_account.check(&account)?;
        self.per_address.check(&address)
    }

    /// Records a failed attempt; `false` when it could not be recorded
    /// (the caller then refuses, rather than forget a lockout).
    pub fn fail(&self, email: &str, ip: IpAddr) -> bool {
        let (account, address) = Self::keys(email, ip);
        self.per_account.fail(account) & self.per_address.fail(address)
    }

    /// Forgets the account's failures at `ip` after it signed in there.
    pub fn succeeded(&self, email: &str, ip: IpAddr) {
        self.per_account.clear(&Self::keys(email, ip).0);
    }

    /// Keys held (for tests of the bound).
    pub fn len(&self) -> usize {
        self.per_account.len() + self.per_address.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn failures_at_one_address_never_lock_the_account_at_another() {
        let limiter = LoginLimiter::new(3, 50, Duration::from_secs(60), 1000);
        for _ in 0..3 {
            assert!(limiter.check("ana@x", ip("10.0.0.1")).is_ok());
            limiter.fail("ana@x", ip("10.0.0.1"));
        }
        let wait = limiter.check("ana@x", ip("10.0.0.1")).unwrap_err();
        assert!((1..=60).contains(&wait));
        assert!(limiter.check("ANA@x ", ip("10.0.0.2")).is_ok());
        assert!(limiter.check("ben@x", ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn an_address_is_limited_across_accounts_and_ipv6_counts_per_64() {
        let limiter = LoginLimiter::new(10, 5, Duration::from_secs(60), 1000);
        for i in 0..5 {
            limiter.fail(&format!("user{i}@x"), ip(&format!("2001:db8::{i}")));
        }
        assert!(limiter.check("new@x", ip("2001:db8::ffff")).is_err());
        assert!(limiter.check("new@x", ip("2001:db8:1::1")).is_ok());
    }

    #[test]
    fn the_table_is_bounded_and_keeps_its_lockouts() {
        let limiter = LoginLimiter::new(2, 1_000_000, Duration::from_secs(60), 10);
        limiter.fail("locked@x", ip("10.0.0.1"));
        limiter.fail("locked@x", ip("10.0.0.1"));
        for i in 0..500 {
            limiter.fail(&format!("u{i}@x"), ip("10.0.0.2"));
        }
        assert!(limiter.len() <= 20);
        assert!(
            limiter.check("locked@x", ip("10.0.0.1")).is_err(),
            "a live lockout survives the flood"
        );
    }

    #[test]
    fn failures_expire_after_the_window() {
        let limiter = LoginLimiter::new(1, 10, Duration::from_millis(10), 100);
        limiter.fail("a@x", ip("10.0.0.1"));
        assert!(limiter.check("a@x", ip("10.0.0.1")).is_err());
        std::thread::sleep(Duration::from_millis(20));
        assert!(limiter.check("a@x", ip("10.0.0.1")).is_ok());
    }
}
