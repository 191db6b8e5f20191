//! Commits made elsewhere (the command line, another node) reach the
//! copies held here and the peers connected here.

use std::sync::Arc;

use super::Hub;

/// Documents the store watcher reads per query.
const WATCH_PAGE: u32 = 5_000;

impl Hub {
    /// Watches the store for commits made elsewhere (the command line, another
    /// server node), brings held copies up to date and tells connected peers,
    /// once a second. Lossy hints are fine: the sync protocol recovers
    /// anything missed.
    pub fn watch_store(self: &Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut seen = hub.store.latest_seq().await.unwrap_or_default();
            let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let Ok(latest) = hub.store.latest_seq().await else {
                    continue;
                };
                if latest <= seen {
                    continue;
                }
                // Held copies catch up even with nobody connected: sync
                // answers from them without asking the store.
                while let Ok(changed) = hub.store.documents_since(seen, WATCH_PAGE).await {
                    let last = changed.last().map(|(_, seq, _)| *seq);
                    let full = changed.len() >= WATCH_PAGE as usize;
                    for (id, seq, _) in changed {
                        // This process's own commits were announced as made.
                        let tell = match hub.documents.caught_up(id, seq).await {
                            Ok(tell) => tell,
                            Err(err) => {
                                // Dropped, the copy reloads whole when next used.
                                tracing::warn!(document = %id, error = %err, "catching up failed");
                                hub.documents.forget(&id);
                                true
                            }
                        };
                        if tell && hub.live.count() > 0 {
                            hub.live.changed(id, None);
                        }
                    }
                    match last {
                        Some(last) if full => seen = last,
                        _ => {
                            seen = seen.max(latest);
                            break;
                        }
                    }
                }
            }
        });
    }
}
