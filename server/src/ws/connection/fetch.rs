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

/// Bytes of documents per `baton/documents` frame, so one frame never
/// holds up the socket (or the browser's handling of it) for long.
const FRAME_BYTES: usize = 128 * 1024;

impl Peer {
    pub(super) async fn fetch(&mut self, ids: Vec<DocumentId>) -> Flow {
        if ids.len() > MAX_FETCH_DOCUMENTS {
            return Flow::Close(POLICY, "a fetch names too many documents");
        }
        if !self.fetches.take() {
            return Flow::Close(POLICY, "too many fetches; slow down");
        }
        let new = ids
            .iter()
            .filter(|id| !self.states.contains_key(id))
            .count();
        if self.states.len() + new > self.state.limits.max_documents {
            return Flow::Close(POLICY, "this connection holds too many documents");
        }
        // Held before the read: a commit meanwhile is announced to this
        // connection and synced from the bytes' heads once they are sent.
        self.connection
            .documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(ids.iter().copied());
        let saved = match self.state.hub.reads().saved(&ids).await {
            Ok(saved) => saved,
            Err(err) => {
                tracing::error!(error = %err, "reading documents to fetch failed");
                return Flow::Close(SERVER_ERROR, "server error");
            }
        };
        let found: HashSet<DocumentId> = saved.iter().map(|s| s.id).collect();
        let mut unavailable: Vec<DocumentId> = ids;
        unavailable.retain(|id| !found.contains(id));
        let mut frame = Vec::new();
        let mut frame_bytes = 0;
        for stored in saved {
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
        for id in unavailable {
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
