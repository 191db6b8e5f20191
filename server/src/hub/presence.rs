//! Presence ("Ana is viewing", "Ben is typing") across nodes. It is never
//! stored: this node pushes it to its own peers at once, and batches it to
//! the other nodes every [`BATCH_EVERY`] over the store's presence channel
//! (PostgreSQL's NOTIFY). A lost batch costs nothing: the next keystroke
//! says it again.

use std::sync::Arc;
use std::time::Duration;

use baton_shared::ids::DocumentId;
use baton_shared::protocol::Presence;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Hub;

/// How long presence waits to travel with others.
const BATCH_EVERY: Duration = Duration::from_millis(50);
/// Most bytes one batch carries (PostgreSQL refuses payloads over 8000).
const MOST_BYTES: usize = 7_000;
/// Presence waiting to be sent; more is dropped (it is said again soon).
const QUEUE: usize = 4_096;

/// One batch as it travels between nodes.
#[derive(Debug, Serialize, Deserialize)]
struct Batch {
    node: String,
    items: Vec<(DocumentId, Presence)>,
}

impl Hub {
    /// Shares presence with the peers holding `document`, on every node.
    pub fn share_presence(&self, document: DocumentId, presence: &Presence, except: u64) {
        self.live.presence(document, presence, except);
        let outgoing = self.presence_out.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(out) = outgoing.as_ref() {
            let _ = out.try_send((document, presence.clone()));
        }
    }

    /// Relays presence to and from the other nodes until shutdown.
    pub fn relay_presence(self: &Arc<Self>, shutdown: CancellationToken) {
        let (out, mut queued) = mpsc::channel(QUEUE);
        *self.presence_out.lock().unwrap_or_else(|e| e.into_inner()) = Some(out);
        let hub = self.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            loop {
                let first = tokio::select! {
                    () = stop.cancelled() => return,
                    first = queued.recv() => match first {
                        Some(first) => first,
                        None => return,
                    },
                };
                tokio::time::sleep(BATCH_EVERY).await;
                let mut items = vec![first];
                while let Ok(item) = queued.try_recv() {
                    items.push(item);
                }
                hub.send_presence(items).await;
            }
        });
        let hub = self.clone();
        let mut heard = self.store.presence();
        tokio::spawn(async move {
            loop {
                let payload = tokio::select! {
                    () = shutdown.cancelled() => return,
                    payload = heard.recv() => payload,
                };
                match payload {
                    Ok(payload) => hub.hear_presence(&payload),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    async fn send_presence(&self, items: Vec<(DocumentId, Presence)>) {
        let node = self.store.node().to_owned();
        let mut batch = Batch {
            node: node.clone(),
            items: Vec::new(),
        };
        for item in items {
            batch.items.push(item);
            let size = serde_json::to_string(&batch).map_or(0, |text| text.len());
            if size > MOST_BYTES && batch.items.len() > 1 {
                let last = batch.items.pop();
                self.send_batch(&batch).await;
                batch.items = last.into_iter().collect();
            }
        }
        self.send_batch(&batch).await;
    }

    async fn send_batch(&self, batch: &Batch) {
        if batch.items.is_empty() {
            return;
        }
        let Ok(payload) = serde_json::to_string(batch) else {
            return;
        };
        if let Err(err) = self.store.send_presence(&payload).await {
            tracing::debug!(error = %err, "presence did not reach the other nodes");
        }
    }

    fn hear_presence(&self, payload: &str) {
        let Ok(batch) = serde_json::from_str::<Batch>(payload) else {
            tracing::debug!("unreadable presence from another node");
            return;
        };
        if batch.node == self.store.node() {
            return;
        }
        for (document, presence) in &batch.items {
            self.live.presence(*document, presence, 0);
        }
    }
}
