//! When each agent is connected, kept durably so the server can refuse a
//! change stamped into a time its author was online (see
//! `baton_shared::validate::online`). Each connection is a span: opened,
//! touched while alive, closed; a process that dies leaves its spans to
//! be closed shortly after they were last touched.

use std::sync::Arc;
use std::time::Duration;

use baton_shared::ids::AgentId;
use baton_shared::model::Millis;
use baton_shared::validate::{OnlineHistory, Windows};
use tokio_util::sync::CancellationToken;

use super::{Hub, HubError};
use crate::store::{ONLINE_TOUCH_MS, Write};

/// How long connections are remembered. A change stamped earlier than this
/// is judged as offline work (the span that might refute it is gone).
pub const ONLINE_RETENTION_MS: Millis = 30 * 24 * 3600 * 1000;
/// An open span not touched for this long belongs to a dead process.
const STALE_AFTER_MS: Millis = 3 * ONLINE_TOUCH_MS;

/// The windows timestamps are judged with. Debug builds take
/// `BATON_TEST_TIME_SCALE=N` to divide them by N, so tests of what happens
/// minutes apart run in a second.
fn windows() -> Windows {
    #[cfg(debug_assertions)]
    if let Some(by) = std::env::var("BATON_TEST_TIME_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return Windows::scaled_down(by);
    }
    Windows::default()
}

impl Hub {
    /// Records that `agent` connected (as span `id`) and returns when the
    /// server saw them online, this connection included.
    pub async fn open_span(&self, id: &str, agent: &AgentId) -> Result<OnlineHistory, HubError> {
        let now = baton_shared::clock::now();
        self.store
            .commit(vec![Write::OnlineStarted {
                id: id.to_owned(),
                agent: agent.clone(),
                at: now,
            }])
            .await?;
        let mut history = self
            .store
            .online_history(agent, now - ONLINE_RETENTION_MS, now - STALE_AFTER_MS)
            .await?;
        history.windows = windows();
        Ok(history)
    }

    /// Records that the connection of span `id` ended, last heard from at
    /// `at`, in the background (a socket task ends without waiting for the
    /// disk).
    pub fn close_span(self: &Arc<Self>, id: String, at: Millis) {
        let hub = self.clone();
        tokio::spawn(async move {
            if let Err(err) = hub.store.commit(vec![Write::OnlineEnded { id, at }]).await {
                tracing::warn!(error = %err, "could not record a connection's end");
            }
        });
    }

    /// Keeps the spans of this process's open connections touched, closes
    /// those of dead processes, and forgets old ones.
    pub fn watch_online(self: &Arc<Self>, shutdown: CancellationToken) {
        let hub = self.clone();
        tokio::spawn(async move {
            let touch = Duration::from_millis(ONLINE_TOUCH_MS.unsigned_abs());
            let mut ticks = tokio::time::interval(touch);
            let mut count: u64 = 0;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let now = baton_shared::clock::now();
                let mut writes = vec![
                    Write::OnlineSeen {
                        ids: hub.live.spans(),
                        at: now,
                    },
                    Write::CloseStaleOnline {
                        seen_before: now - STALE_AFTER_MS,
                        grace: ONLINE_TOUCH_MS,
                    },
                ];
                // Once an hour, forget spans past the retention.
                if count.is_multiple_of(120) {
                    writes.push(Write::PruneOnline {
                        ended_before: now - ONLINE_RETENTION_MS,
                    });
                }
                count += 1;
                if let Err(err) = hub.store.commit(writes).await {
                    tracing::warn!(error = %err, "could not record who is online");
                }
            }
        });
    }
}
