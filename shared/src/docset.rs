//! The documents a client holds and the sync protocol around them, without
//! any I/O: feed it the messages that arrive, send what it hands out. The
//! browser app, the native test client and the load generator all drive the
//! same `DocSet` over their own websockets.

mod event;
mod fetch;

use std::collections::{BTreeMap, BTreeSet};

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};

use crate::ids::DocumentId;
use crate::protocol::{self, Message, Presence};

pub use event::Event;
pub use fetch::{in_step, parse_heads};

struct Entry {
    doc: AutoCommit,
    state: sync::State,
    /// Asked for with `request` and not yet answered.
    pending: bool,
}

/// The set of documents one client holds, with a sync state per document.
pub struct DocSet {
    peer_id: String,
    server: String,
    baton: bool,
    /// Whether the server sends documents whole (`baton/fetch`).
    fetches: bool,
    /// Asked for whole and not yet arrived.
    fetching: BTreeSet<DocumentId>,
    docs: BTreeMap<DocumentId, Entry>,
    outgoing: Vec<Message>,
    /// The last commit sequence the client has caught up to.
    last_seq: u64,
    session_id: String,
    ephemeral_count: u64,
    /// Documents synced (a sync message sent or received) since the counter was reset.
    synced: BTreeSet<DocumentId>,
}

impl DocSet {
    /// A client calling itself `peer_id` on the wire.
    pub fn new(peer_id: impl Into<String>) -> Self {
        DocSet {
            peer_id: peer_id.into(),
            server: String::new(),
            baton: false,
            fetches: false,
            fetching: BTreeSet::new(),
            docs: BTreeMap::new(),
            outgoing: Vec::new(),
            last_seq: 0,
            session_id: hex::encode(crate::ids::random_bytes()),
            ephemeral_count: 0,
            synced: Default::default(),
        }
    }

    /// The `join` that starts a connection. Sync states start afresh on every
    /// connection, since the server remembers nothing of the last one.
    pub fn join(&mut self) -> Message {
        self.outgoing.clear();
        self.server.clear();
        for entry in self.docs.values_mut() {
            entry.state = sync::State::new();
        }
        Message::Join {
            sender_id: self.peer_id.clone(),
            supported_protocol_versions: vec![protocol::PROTOCOL_V1.to_owned()],
            peer_metadata: Some(protocol::PeerMetadata {
                storage_id: None,
                is_ephemeral: false,
            }),
            baton: Some(protocol::BATON_VERSION),
        }
    }

    /// Whether the server answered `join`.
    pub fn is_joined(&self) -> bool {
        !self.server.is_empty()
    }

    /// Holds a document (loaded from local storage, or created by a test).
    pub fn insert(&mut self, id: DocumentId, doc: AutoCommit) {
        self.docs.insert(
            id,
            Entry {
                doc,
                state: sync::State::new(),
                pending: false,
            },
        );
    }

    /// Asks the server for a document this client does not hold yet.
    pub fn open(&mut self, id: DocumentId) {
        if self.docs.contains_key(&id) {
            self.sync(id);
            return;
        }
        let mut entry = Entry {
            doc: AutoCommit::new(),
            state: sync::State::new(),
            pending: true,
        };
        if self.is_joined() {
            let data = entry
                .doc
                .sync()
                .generate_sync_message(&mut entry.state)
                .map(|m| m.encode())
                .unwrap_or_default();
            self.outgoing.push(Message::Request {
                sender_id: self.peer_id.clone(),
                target_id: self.server.clone(),
                document_id: id,
                data,
            });
        }
        self.docs.insert(id, entry);
    }

    /// The document `id`, once this client holds it (not while it is
    /// still asked for).
    pub fn doc(&self, id: &DocumentId) -> Option<&AutoCommit> {
        self.docs.get(id).filter(|e| !e.pending).map(|e| &e.doc)
    }

    /// The document to change; call [`DocSet::sync`] after changing it.
    pub fn doc_mut(&mut self, id: &DocumentId) -> Option<&mut AutoCommit> {
        self.docs
            .get_mut(id)
            .filter(|e| !e.pending)
            .map(|e| &mut e.doc)
    }

    /// Every held document among `ids`, to change several at once (bulk).
    pub fn docs_mut<'a>(
        &'a mut self,
        ids: &'a [DocumentId],
    ) -> impl Iterator<Item = (DocumentId, &'a mut AutoCommit)> + 'a {
        self.docs
            .iter_mut()
            .filter(move |(id, e)| !e.pending && ids.contains(id))
            .map(|(id, e)| (*id, &mut e.doc))
    }

    /// Every document held (answered by the server or loaded locally).
    pub fn ids(&self) -> impl Iterator<Item = &DocumentId> {
        self.docs
            .iter()
            .filter(|(_, e)| !e.pending)
            .map(|(id, _)| id)
    }

    /// Queues what the server needs to learn about `id` (after a local change).
    pub fn sync(&mut self, id: DocumentId) {
        if !self.is_joined() {
            return;
        }
        let Some(entry) = self.docs.get_mut(&id) else {
            return;
        };
        let message = entry.doc.sync().generate_sync_message(&mut entry.state);
        if let Some(message) = message {
            self.send_sync(id, message.encode());
        }
    }

    /// Queues a sync message for `id` (generated here, or by a client that
    /// keeps some documents outside this set).
    pub fn send_sync(&mut self, id: DocumentId, data: Vec<u8>) {
        if self.is_joined() {
            self.synced.insert(id);
            self.outgoing.push(Message::Sync {
                sender_id: self.peer_id.clone(),
                target_id: self.server.clone(),
                document_id: id,
                data,
            });
        }
    }

    /// Hands over a held document with its sync state; the set no longer
    /// holds it.
    pub fn take(&mut self, id: &DocumentId) -> Option<(AutoCommit, sync::State)> {
        match self.docs.get(id) {
            Some(entry) if !entry.pending => {}
            _ => return None,
        }
        self.docs.remove(id).map(|e| (e.doc, e.state))
    }

    /// Syncs every document held (a reconnect without catch-up).
    pub fn sync_all(&mut self) {
        let ids: Vec<_> = self.docs.keys().copied().collect();
        for id in ids {
            self.sync(id);
        }
    }

    /// The last commit sequence this client has caught up to: what a kept
    /// copy remembers, so that a reload asks only for what changed since.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Starts catching up from `seq`, the sequence a kept copy had reached
    /// (0 for everything).
    pub fn resume_from(&mut self, seq: u64) {
        self.last_seq = seq;
    }

    /// Asks the server which documents changed since `last_seq`.
    pub fn catch_up(&mut self) {
        if self.is_joined() {
            self.outgoing.push(Message::BatonCatchUp {
                sender_id: self.peer_id.clone(),
                target_id: self.server.clone(),
                since: self.last_seq,
            });
        }
    }

    /// Tells others in `id` what this agent is doing there.
    pub fn presence(&mut self, id: DocumentId, presence: &Presence) {
        if !self.is_joined() {
            return;
        }
        self.ephemeral_count += 1;
        self.outgoing.push(Message::Ephemeral {
            sender_id: self.peer_id.clone(),
            target_id: self.server.clone(),
            count: self.ephemeral_count,
            session_id: self.session_id.clone(),
            document_id: id,
            data: protocol::encode_presence(presence),
        });
    }

    /// Marks notifications read on the server (and the agent's other tabs).
    pub fn notifications_read(&mut self, ids: Vec<String>) {
        if self.is_joined() {
            self.outgoing.push(Message::BatonNotificationRead {
                sender_id: self.peer_id.clone(),
                target_id: self.server.clone(),
                ids,
            });
        }
    }

    /// Messages to send, oldest first.
    pub fn take_outgoing(&mut self) -> Vec<Message> {
        std::mem::take(&mut self.outgoing)
    }

    /// Documents synced since the last call (for tests and benchmarks).
    pub fn take_synced(&mut self) -> Vec<DocumentId> {
        std::mem::take(&mut self.synced).into_iter().collect()
    }

    /// Handles one message from the server.
    pub fn receive(&mut self, message: Message) -> Vec<Event> {
        match message {
            Message::Peer {
                sender_id, baton, ..
            } => {
                self.server = sender_id;
                self.baton = baton.is_some();
                self.fetches = baton.is_some_and(|v| v >= protocol::BATON_FETCH);
                // Ask again for what was requested while offline, and send local work.
                let pending: Vec<_> = self
                    .docs
                    .iter()
                    .filter(|(_, e)| e.pending)
                    .map(|(id, _)| *id)
                    .collect();
                for id in pending {
                    self.docs.remove(&id);
                    self.open(id);
                }
                self.refetch();
                vec![Event::Joined { baton: self.baton }]
            }
            Message::Sync {
                document_id, data, ..
            }
            | Message::Request {
                document_id, data, ..
            } => self.receive_sync(document_id, &data),
            Message::DocUnavailable { document_id, .. } => {
                self.fetching.remove(&document_id);
                if self.docs.get(&document_id).is_some_and(|e| e.pending) {
                    self.docs.remove(&document_id);
                }
                vec![Event::Unavailable(document_id)]
            }
            Message::Ephemeral {
                document_id, data, ..
            } => match protocol::decode_presence(&data) {
                Ok(presence) => vec![Event::Presence {
                    document: document_id,
                    presence,
                }],
                Err(_) => Vec::new(),
            },
            Message::BatonPresence {
                document_id,
                presence,
                ..
            } => vec![Event::Presence {
                document: document_id,
                presence,
            }],
            Message::BatonHeads {
                seq,
                documents,
                more,
                ..
            } => {
                let ids: Vec<DocumentId> = documents.iter().map(|d| d.document_id).collect();
                // The next page is asked for first, so the server lists it
                // while it answers this page's syncs and fetch.
                self.last_seq = self.last_seq.max(seq);
                if more {
                    self.catch_up();
                }
                let mut unheld = Vec::new();
                for id in &ids {
                    if self.docs.contains_key(id) {
                        self.sync(*id);
                    } else {
                        unheld.push(*id);
                    }
                }
                if seq > 0 {
                    self.want(unheld);
                } else {
                    // Sequence 0 announces a new document live: one small
                    // request, not a fetch (fetches go at catch-up's pace).
                    for id in unheld {
                        self.open(id);
                    }
                }
                vec![Event::CaughtUp {
                    seq,
                    documents: ids,
                }]
            }
            Message::BatonDocuments { documents, .. } => self.receive_documents(documents),
            Message::BatonNotification { notification, .. } => {
                vec![Event::Notification(notification)]
            }
            Message::BatonNotificationRead { ids, .. } => vec![Event::NotificationsRead(ids)],
            Message::BatonError {
                document_id,
                code,
                message,
                ..
            } => vec![Event::Refused {
                document: document_id,
                code,
                message,
            }],
            Message::Error { message, .. } => vec![Event::Error(message)],
            _ => Vec::new(),
        }
    }

    fn receive_sync(&mut self, id: DocumentId, data: &[u8]) -> Vec<Event> {
        let Some(entry) = self.docs.get_mut(&id) else {
            return Vec::new();
        };
        let Ok(message) = sync::Message::decode(data) else {
            return vec![Event::Error(format!("undecodable sync message for {id}"))];
        };
        self.synced.insert(id);
        let before = entry.doc.get_heads();
        if entry
            .doc
            .sync()
            .receive_sync_message(&mut entry.state, message)
            .is_err()
        {
            return vec![Event::Error(format!(
                "the server sent changes to {id} that do not apply"
            ))];
        }
        entry.pending = false;
        let changed = entry.doc.get_heads() != before;
        self.sync(id);
        if changed {
            vec![Event::Changed(id)]
        } else {
            Vec::new()
        }
    }

    /// Whether the server has said it holds the change `hash` of `id`.
    pub fn server_has(&mut self, id: &DocumentId, hash: &automerge::ChangeHash) -> bool {
        let Some(entry) = self.docs.get_mut(id) else {
            return false;
        };
        let Some(theirs) = entry.state.their_heads.clone() else {
            return false;
        };
        if theirs.contains(hash) {
            return true;
        }
        // Known to them unless it is among the changes after their heads.
        entry.doc.get_missing_deps(&theirs).is_empty()
            && !entry
                .doc
                .get_changes(&theirs)
                .iter()
                .any(|c| c.hash() == *hash)
    }

    /// Replaces a document with the server's copy (after a refusal).
    pub fn reload(&mut self, id: DocumentId) {
        self.docs.remove(&id);
        self.open(id);
    }
}

#[cfg(test)]
mod tests;
