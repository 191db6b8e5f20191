//! Documents fetched whole (`baton/fetch`): a client that holds none of a
//! catch-up's documents asks for their stored bytes instead of running a
//! sync exchange per document, and both sides then stand as if that
//! exchange had ended at the bytes' heads ([`in_step`]).

use automerge::sync::{self, BloomFilter, Have};
use automerge::{AutoCommit, ChangeHash};

use super::{DocSet, Entry, Event};
use crate::ids::DocumentId;
use crate::protocol::{MAX_FETCH_DOCUMENTS, Message, SavedDocument};

/// The sync state of two peers that both hold a document at `heads` and
/// know it: what a finished sync exchange leaves behind. Neither side has
/// anything to say until one of them changes; then it sends only the
/// changes after `heads`.
pub fn in_step(heads: Vec<ChangeHash>) -> sync::State {
    let mut state = sync::State::new();
    state.shared_heads.clone_from(&heads);
    state.last_sent_heads.clone_from(&heads);
    state.their_have = Some(vec![Have {
        last_sync: heads.clone(),
        bloom: BloomFilter::default(),
    }]);
    state.their_need = Some(Vec::new());
    state.their_heads = Some(heads);
    state.have_responded = true;
    state
}

/// Hex change hashes as the store keeps them; `None` if any does not parse.
pub fn parse_heads(heads: &[String]) -> Option<Vec<ChangeHash>> {
    heads.iter().map(|h| h.parse().ok()).collect()
}

impl DocSet {
    /// Asks for documents this client does not hold: whole, when the
    /// server can send them so, else one request each.
    pub(super) fn want(&mut self, ids: Vec<DocumentId>) {
        if !self.fetches {
            for id in ids {
                self.open(id);
            }
            return;
        }
        let new: Vec<DocumentId> = ids
            .into_iter()
            .filter(|id| self.fetching.insert(*id))
            .collect();
        self.send_fetches(&new);
    }

    /// Asks again for what was being fetched when the connection dropped.
    pub(super) fn refetch(&mut self) {
        if !self.fetches {
            // A server that cannot fetch gets a request per document.
            let ids: Vec<DocumentId> = std::mem::take(&mut self.fetching).into_iter().collect();
            for id in ids {
                self.open(id);
            }
            return;
        }
        let ids: Vec<DocumentId> = self.fetching.iter().copied().collect();
        self.send_fetches(&ids);
    }

    fn send_fetches(&mut self, ids: &[DocumentId]) {
        if !self.is_joined() {
            return;
        }
        for page in ids.chunks(MAX_FETCH_DOCUMENTS) {
            self.outgoing.push(Message::BatonFetch {
                sender_id: self.peer_id.clone(),
                target_id: self.server.clone(),
                document_ids: page.to_vec(),
            });
        }
    }

    /// Holds documents the server sent whole. One whose bytes do not load
    /// at the heads the server named is asked for again the usual way.
    pub(super) fn receive_documents(&mut self, documents: Vec<SavedDocument>) -> Vec<Event> {
        let mut events = Vec::with_capacity(documents.len());
        for saved in documents {
            let id = saved.document_id;
            self.fetching.remove(&id);
            if let Some(entry) = self.docs.get_mut(&id).filter(|e| !e.pending) {
                // Held meanwhile (made here): merge, then sync as usual.
                if entry.doc.load_incremental(&saved.data).is_ok() {
                    self.sync(id);
                    events.push(Event::Changed(id));
                }
                continue;
            }
            let loaded = AutoCommit::load(&saved.data)
                .ok()
                .map(|mut doc| (doc.get_heads(), doc));
            let heads = parse_heads(&saved.heads);
            match (loaded, heads) {
                (Some((loaded_at, doc)), Some(heads)) if loaded_at == heads => {
                    self.docs.insert(
                        id,
                        Entry {
                            doc,
                            state: in_step(heads),
                            pending: false,
                        },
                    );
                    self.synced.insert(id);
                    events.push(Event::Fetched {
                        document: id,
                        bytes: saved.data,
                    });
                }
                _ => {
                    self.docs.remove(&id);
                    self.open(id);
                }
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use automerge::sync::SyncDoc;
    use automerge::transaction::Transactable;
    use automerge::{ROOT, ReadDoc};

    use super::*;
    use crate::protocol::{self, BATON_FETCH};

    fn doc_with(key: &str) -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, key, 1).unwrap();
        doc.commit();
        doc
    }

    /// Runs the sync protocol between `a` and `b` until neither has
    /// anything to say; how many messages it took.
    fn sync_until_quiet(
        a: &mut AutoCommit,
        a_state: &mut sync::State,
        b: &mut AutoCommit,
        b_state: &mut sync::State,
    ) -> usize {
        let mut sent = 0;
        for _ in 0..20 {
            let one = a.sync().generate_sync_message(a_state);
            if let Some(m) = &one {
                b.sync().receive_sync_message(b_state, m.clone()).unwrap();
                sent += 1;
            }
            let two = b.sync().generate_sync_message(b_state);
            if let Some(m) = &two {
                a.sync().receive_sync_message(a_state, m.clone()).unwrap();
                sent += 1;
            }
            if one.is_none() && two.is_none() {
                return sent;
            }
        }
        panic!("the sync never went quiet");
    }

    #[test]
    fn a_snapshot_and_the_changes_after_it_load_as_one_document() {
        let mut doc = doc_with("a");
        let mut bytes = doc.save();
        doc.put(ROOT, "b", 2).unwrap();
        doc.commit();
        bytes.extend(doc.save_incremental());
        let mut loaded = AutoCommit::load(&bytes).unwrap();
        assert_eq!(loaded.get_heads(), doc.get_heads());
        assert!(loaded.get(ROOT, "b").unwrap().is_some());
    }

    #[test]
    fn peers_in_step_are_quiet_until_one_changes_then_send_only_that_change() {
        let mut server = doc_with("a");
        let mut client = AutoCommit::load(&server.save()).unwrap();
        let heads = server.get_heads();
        let (mut on_server, mut on_client) = (in_step(heads.clone()), in_step(heads));
        assert!(
            server
                .sync()
                .generate_sync_message(&mut on_server)
                .is_none()
        );
        assert!(
            client
                .sync()
                .generate_sync_message(&mut on_client)
                .is_none()
        );

        server.put(ROOT, "b", 2).unwrap();
        server.commit();
        let message = server.sync().generate_sync_message(&mut on_server).unwrap();
        assert_eq!(message.changes.len(), 1, "only the new change goes");
        client
            .sync()
            .receive_sync_message(&mut on_client, message)
            .unwrap();
        assert_eq!(client.get_heads(), server.get_heads());
        // The acknowledgement, and nothing after it.
        let exchanged = sync_until_quiet(&mut client, &mut on_client, &mut server, &mut on_server);
        assert_eq!(exchanged, 1);

        client.put(ROOT, "c", 3).unwrap();
        client.commit();
        sync_until_quiet(&mut client, &mut on_client, &mut server, &mut on_server);
        assert_eq!(server.get_heads(), client.get_heads());
    }

    #[test]
    fn a_client_behind_the_heads_the_server_believes_still_converges() {
        let mut server = doc_with("a");
        let mut client = AutoCommit::load(&server.save()).unwrap();
        server.put(ROOT, "b", 2).unwrap();
        server.commit();
        // The server counts the client at its newer heads.
        let mut on_server = in_step(server.get_heads());
        let mut on_client = in_step(client.get_heads());
        server.put(ROOT, "c", 3).unwrap();
        server.commit();
        sync_until_quiet(&mut server, &mut on_server, &mut client, &mut on_client);
        assert_eq!(client.get_heads(), server.get_heads());
    }

    /// The server's answer to `join`, speaking extension `version`.
    fn peer(version: u32) -> Message {
        Message::Peer {
            sender_id: "server".to_owned(),
            target_id: "client".to_owned(),
            selected_protocol_version: protocol::PROTOCOL_V1.to_owned(),
            peer_metadata: None,
            baton: Some(version),
        }
    }

    fn joined(version: u32) -> DocSet {
        let mut set = DocSet::new("client");
        let _ = set.join();
        set.receive(peer(version));
        set
    }

    fn heads_page(ids: &[DocumentId]) -> Message {
        Message::BatonHeads {
            sender_id: "server".to_owned(),
            target_id: "client".to_owned(),
            seq: 9,
            documents: ids
                .iter()
                .map(|id| protocol::ChangedDocument {
                    document_id: *id,
                    heads: Vec::new(),
                    seq: 9,
                })
                .collect(),
            more: false,
        }
    }

    fn saved(id: DocumentId, doc: &mut AutoCommit) -> SavedDocument {
        SavedDocument {
            document_id: id,
            heads: doc.get_heads().iter().map(ToString::to_string).collect(),
            data: doc.save(),
        }
    }

    fn fetched(outgoing: &[Message]) -> Vec<DocumentId> {
        outgoing
            .iter()
            .flat_map(|m| match m {
                Message::BatonFetch { document_ids, .. } => document_ids.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn unheld_documents_of_a_catch_up_are_fetched_whole_and_held_in_step() {
        let ids: Vec<DocumentId> = (1..=3).map(|n| DocumentId::from_bytes([n; 16])).collect();
        let mut set = joined(BATON_FETCH);
        set.receive(heads_page(&ids));
        let outgoing = set.take_outgoing();
        assert_eq!(fetched(&outgoing), ids);
        assert!(
            !outgoing
                .iter()
                .any(|m| matches!(m, Message::Request { .. })),
            "no request per document"
        );

        let (mut one, mut two, mut three) = (doc_with("1"), doc_with("2"), doc_with("3"));
        let mut wrong = saved(ids[2], &mut three);
        wrong.heads = saved(ids[0], &mut one).heads;
        let events = set.receive(Message::BatonDocuments {
            sender_id: "server".to_owned(),
            target_id: "client".to_owned(),
            documents: vec![saved(ids[0], &mut one), saved(ids[1], &mut two), wrong],
        });
        let held: Vec<DocumentId> = events
            .iter()
            .filter_map(|e| match e {
                Event::Fetched { document, .. } => Some(*document),
                _ => None,
            })
            .collect();
        assert_eq!(held, ids[..2]);
        assert!(set.doc(&ids[0]).unwrap().get(ROOT, "1").unwrap().is_some());
        // In step: nothing to say about the fetched ones; the one whose bytes
        // did not load at the named heads is asked for the usual way.
        set.sync_all();
        let outgoing = set.take_outgoing();
        let about: Vec<DocumentId> = outgoing
            .iter()
            .filter_map(|m| match m {
                Message::Request { document_id, .. } | Message::Sync { document_id, .. } => {
                    Some(*document_id)
                }
                _ => None,
            })
            .collect();
        assert_eq!(about, vec![ids[2]]);
    }

    #[test]
    fn what_was_being_fetched_is_asked_for_again_after_a_reconnect() {
        let ids: Vec<DocumentId> = (1..=2).map(|n| DocumentId::from_bytes([n; 16])).collect();
        let mut set = joined(BATON_FETCH);
        set.receive(heads_page(&ids));
        set.take_outgoing();
        let mut one = doc_with("1");
        set.receive(Message::BatonDocuments {
            sender_id: "server".to_owned(),
            target_id: "client".to_owned(),
            documents: vec![saved(ids[0], &mut one)],
        });
        let _ = set.join();
        set.receive(peer(BATON_FETCH));
        assert_eq!(fetched(&set.take_outgoing()), vec![ids[1]]);
        // Unavailable ends the wait.
        set.receive(Message::DocUnavailable {
            sender_id: "server".to_owned(),
            target_id: "client".to_owned(),
            document_id: ids[1],
        });
        set.refetch();
        assert!(fetched(&set.take_outgoing()).is_empty());
    }

    #[test]
    fn a_new_document_announced_live_is_requested_not_fetched() {
        let id = DocumentId::from_bytes([5; 16]);
        let mut set = joined(BATON_FETCH);
        set.receive(Message::BatonHeads {
            sender_id: "server".to_owned(),
            target_id: "client".to_owned(),
            seq: 0,
            documents: vec![protocol::ChangedDocument {
                document_id: id,
                heads: Vec::new(),
                seq: 0,
            }],
            more: false,
        });
        let outgoing = set.take_outgoing();
        assert!(fetched(&outgoing).is_empty());
        assert!(
            outgoing
                .iter()
                .any(|m| matches!(m, Message::Request { document_id, .. } if *document_id == id))
        );
    }

    #[test]
    fn a_server_without_fetch_gets_a_request_per_document() {
        let ids: Vec<DocumentId> = (1..=2).map(|n| DocumentId::from_bytes([n; 16])).collect();
        let mut set = joined(1);
        set.receive(heads_page(&ids));
        let outgoing = set.take_outgoing();
        assert!(fetched(&outgoing).is_empty());
        let requested = outgoing
            .iter()
            .filter(|m| matches!(m, Message::Request { .. }))
            .count();
        assert_eq!(requested, 2);
    }
}
