//! `baton/fetch`: documents sent whole, as stored, to a peer that holds
//! none of them (a first sign-in), instead of a sync exchange each. The
//! server reads the stored bytes without loading the documents, and both
//! sides then stand in step at the bytes' heads.

use std::collections::HashSet;

use baton_shared::docset::parse_heads;
use baton_shared::ids::DocumentId;
use baton_shared::protocol::{MAX_FETCH_DOCUMENTS, Message, SavedDocument};

use super::peer::Peer;
use super::{Flow, POLICY, SERVER_ERROR, SERVER_PEER};
use crate::hub::PeerDoc;
use crate::store::Saved;

/// Bytes of documents per `baton/documents` frame, so one frame never
/// holds up the socket (or the browser's handling of it) for long.
const FRAME_BYTES: usize = 128 * 1024;

impl Peer {
    /// Takes a fetch: its documents are held now, then read and sent a run
    /// at a time ([`Peer::fetch_more`]), so one fetch never holds more
    /// than `fetch_read_bytes` of stored documents in memory.
    pub(super) fn fetch(&mut self, ids: Vec<DocumentId>) -> Flow {
        if ids.len() > MAX_FETCH_DOCUMENTS {
            return Flow::Close(POLICY, "a fetch names too many documents");
        }
        if !self.fetches.take() {
            return Flow::Close(POLICY, "too many fetches; slow down");
        }
        // A document already waiting is not read twice.
        let mut queued: HashSet<DocumentId> = self.to_fetch.iter().copied().collect();
        let ids: Vec<DocumentId> = ids.into_iter().filter(|id| queued.insert(*id)).collect();
        let new = ids
            .iter()
            .filter(|id| !self.states.contains_key(id))
            .count();
        if self.states.len() + self.to_fetch.len() + new > self.state.limits.max_documents {
            return Flow::Close(POLICY, "this connection holds too many documents");
        }
        // Held before the read: a commit meanwhile is in the bytes, or is
        // announced to this connection and synced from the bytes' heads
        // once they are sent.
        self.connection
            .documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(ids.iter().copied());
        self.to_fetch.extend(ids);
        Flow::Continue
    }

    /// Whether fetched documents wait to be read and sent.
    pub(super) fn fetching(&self) -> bool {
        !self.to_fetch.is_empty()
    }

    /// Reads the next run of fetched documents, up to `fetch_read_bytes`
    /// of them, and sends them (or `doc-unavailable` for unknown ids).
    pub(super) async fn fetch_more(&mut self) -> Flow {
        let ids: Vec<DocumentId> = self
            .to_fetch
            .iter()
            .take(MAX_FETCH_DOCUMENTS)
            .copied()
            .collect();
        let budget = self.state.limits.fetch_read_bytes;
        let Saved { documents, read } = match self.state.hub.reads().saved(&ids, budget).await {
            Ok(saved) => saved,
            Err(err) => {
                tracing::error!(error = %err, "reading documents to fetch failed");
                return Flow::Close(SERVER_ERROR, "server error");
            }
        };
        self.to_fetch.drain(..read);
        let found: HashSet<DocumentId> = documents.iter().map(|s| s.id).collect();
        let mut frame = Vec::new();
        let mut frame_bytes = 0;
        for stored in documents {
            // Heads that do not parse leave the peer to sync it afresh.
            let peer = parse_heads(&stored.heads).map_or_else(PeerDoc::default, PeerDoc::in_step);
            if let Some(replaced) = self.states.insert(stored.id, peer) {
                self.waiting -= replaced.waiting_bytes();
            }
            frame_bytes += stored.data.len();
            frame.push(SavedDocument {
                document_id: stored.id,
                heads: stored.heads,
                data: stored.data,
            });
            if frame_bytes >= FRAME_BYTES {
                self.send_documents(std::mem::take(&mut frame));
                frame_bytes = 0;
            }
        }
        if !frame.is_empty() {
            self.send_documents(frame);
        }
        for &id in ids[..read].iter().filter(|id| !found.contains(id)) {
            if !self.states.contains_key(&id) {
                self.connection
                    .documents
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            }
            self.send(Message::DocUnavailable {
                sender_id: SERVER_PEER.to_owned(),
                target_id: self.peer_id.clone(),
                document_id: id,
            });
        }
        Flow::Continue
    }

    fn send_documents(&mut self, documents: Vec<SavedDocument>) {
        self.send(Message::BatonDocuments {
            sender_id: SERVER_PEER.to_owned(),
            target_id: self.peer_id.clone(),
            documents,
        });
    }
}
