//! Commits made elsewhere (another node, the command line) reach the
//! copies held here and the peers connected here.
//!
//! The store's hints (PostgreSQL's NOTIFY, SQLite's clock poll) say when to
//! look, and a timer looks anyway; each look reads, in commit order, what
//! was committed after the last position seen: the documents (held copies
//! catch up, peers are told) and the outbox (notifications, read marks and
//! endings other processes decided). The position only moves to a commit
//! clock read in the same snapshot, so no commit is ever stepped over.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Hub;
use crate::store::StoreError;

/// Documents the store watcher reads per query.
const WATCH_PAGE: u32 = 5_000;
/// How often the store is read without a hint (a lost NOTIFY, a dropped
/// listener).
const FALLBACK_EVERY: Duration = Duration::from_secs(2);
/// How long the outbox keeps what was told; the sweep leader prunes it.
pub const OUTBOX_KEEP: Duration = Duration::from_secs(10 * 60);

impl Hub {
    /// Watches the store for commits made elsewhere until shutdown.
    pub fn watch_store(self: &Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut hints = hub.store.hints();
            let mut seen = None;
            let mut last_ok = Instant::now();
            let mut ticks = tokio::time::interval(FALLBACK_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = hints.changed() => {}
                    _ = ticks.tick() => {}
                }
                let from = match seen {
                    Some(seen) => seen,
                    // Starting: everything committed so far is in the store
                    // already, where held copies load it from.
                    None => match hub.store.clock().await {
                        Ok(clock) => clock,
                        Err(_) => continue,
                    },
                };
                match hub.catch_up_from(from).await {
                    Ok(next) => {
                        seen = Some(next);
                        if last_ok.elapsed() > OUTBOX_KEEP / 2 {
                            // Cut off for long: what was told meanwhile
                            // may have been pruned; every tab reloads it.
                            hub.live.lagged_all();
                        }
                        last_ok = Instant::now();
                    }
                    Err(err) => {
                        seen = Some(from);
                        tracing::warn!(error = %err, "reading other nodes' commits failed");
                    }
                }
            }
        });
    }

    /// Brings held copies and connected peers up to everything committed
    /// after `seen`; returns the new position.
    async fn catch_up_from(&self, mut seen: u64) -> Result<u64, StoreError> {
        loop {
            let page = self.store.catch_up(seen, WATCH_PAGE).await?;
            for (id, seq, _) in &page.documents {
                // This process's own commits were announced as made.
                let tell = match self.documents.caught_up(*id, *seq).await {
                    Ok(tell) => tell,
                    Err(err) => {
                        // Dropped, the copy reloads whole when next used.
                        tracing::warn!(document = %id, error = %err, "catching up failed");
                        self.documents.forget(id);
                        true
                    }
                };
                if tell && self.live.count() > 0 {
                    self.live.changed(*id, None);
                }
            }
            for told in self.store.told(seen, page.seq).await? {
                if told.node != self.store.node() {
                    self.live.hear(&told.broadcast);
                }
            }
            seen = page.seq;
            if !page.more {
                return Ok(seen);
            }
        }
    }
}
