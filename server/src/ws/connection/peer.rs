//! What one peer's frames mean: the handshake, sync messages (run side by
//! side per document, so their commits share one fsync), presence, catch-up
//! and read marks, each within the connection's limits.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use automerge::sync;
use axum::body::Bytes;
use axum::extract::ws::Message as Frame;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::protocol::{self, MAX_PEER_FRAME_ITEMS, Message};

use super::{Flow, INVALID, NORMAL, POLICY, SERVER_ERROR, SERVER_PEER, TOO_BIG, UNSUPPORTED};
use crate::AppState;
use crate::fanout::Connection;
use crate::hub::{HubError, PeerDoc, Received, Sender};
use crate::ws::limits::Bucket;

type Incoming<E> = Option<Result<Frame, E>>;

pub(super) struct Peer {
    pub(super) state: AppState,
    pub(super) connection: Arc<Connection>,
    pub(super) sender: Sender,
    pub(super) agent: AgentId,
    pub(super) peer_id: String,
    pub(super) baton: bool,
    joined: bool,
    pub(super) states: HashMap<DocumentId, PeerDoc>,
    /// Bytes of changes waiting, across documents, for changes they depend on.
    pub(super) waiting: usize,
    pub(super) catch_ups: Bucket,
    pub(super) fetches: Bucket,
    /// Documents fetched and held, not yet read and sent, oldest first.
    pub(super) to_fetch: VecDeque<DocumentId>,
    presences: Bucket,
    /// Frames for the peer, encoded, oldest first.
    out: Vec<Bytes>,
    /// A `sync` frame up to the document (sender and this peer's id),
    /// encoded once at join: the rest comes shared, per document state.
    sync_lead: Vec<u8>,
}

impl Peer {
    pub(super) fn new(
        state: AppState,
        connection: Arc<Connection>,
        agent: AgentId,
        sender: Sender,
    ) -> Self {
        let limits = state.limits;
        Peer {
            state,
            connection,
            sender,
            agent,
            peer_id: String::new(),
            baton: false,
            joined: false,
            states: HashMap::new(),
            waiting: 0,
            catch_ups: Bucket::with(limits.catch_up_rate, 10.0),
            fetches: Bucket::with(limits.catch_up_rate, 10.0),
            to_fetch: VecDeque::new(),
            presences: Bucket::with(limits.presence_rate, 20.0),
            out: Vec::new(),
            sync_lead: Vec::new(),
        }
    }

    pub(super) fn send(&mut self, message: Message) {
        self.out.push(message.encode().into());
    }

    /// Queues a `sync` frame whose tail (document and message) was
    /// encoded once for every peer in the same state.
    pub(super) fn send_sync_tail(&mut self, tail: &[u8]) {
        let frame = protocol::sync_frame(&self.sync_lead, tail);
        self.out.push(frame.into());
    }

    /// What is queued for the peer, encoded, oldest first.
    pub(super) fn take_out(&mut self) -> Vec<Bytes> {
        std::mem::take(&mut self.out)
    }

    pub(super) fn error(&mut self, document: Option<DocumentId>, code: &str, message: String) {
        if self.baton {
            self.send(Message::BatonError {
                sender_id: SERVER_PEER.to_owned(),
                target_id: self.peer_id.clone(),
                document_id: document,
                code: code.to_owned(),
                message,
            });
        }
    }

    /// One frame as a message, or how the connection ends.
    fn decode<E: std::fmt::Display>(
        &mut self,
        frame: Incoming<E>,
        bucket: &mut Bucket,
    ) -> Option<Result<Option<Message>, Flow>> {
        Some(match frame {
            Some(Ok(Frame::Binary(_))) if !bucket.take() => {
                Err(Flow::Close(POLICY, "too many messages; slow down"))
            }
            Some(Ok(Frame::Binary(bytes))) => {
                match Message::decode_limited(&bytes, MAX_PEER_FRAME_ITEMS) {
                    Ok(message) => Ok(Some(message)),
                    Err(err) => {
                        tracing::debug!(error = %err, "malformed frame");
                        Err(Flow::Close(INVALID, "malformed message"))
                    }
                }
            }
            None | Some(Ok(Frame::Close(_))) => return None,
            Some(Err(err)) => {
                let text = err.to_string();
                if text.contains("too long") || text.contains("too big") {
                    Err(Flow::Close(TOO_BIG, "frame over the size limit"))
                } else {
                    return None;
                }
            }
            Some(Ok(Frame::Text(_))) => Err(Flow::Close(UNSUPPORTED, "frames must be binary CBOR")),
            Some(Ok(_)) => Ok(None),
        })
    }

    /// Handles frames in their order, except that consecutive sync messages
    /// run together ([`Peer::sync_many`]). `None` ends the connection
    /// without a close frame (the peer left or the socket broke).
    pub(super) async fn frames<E: std::fmt::Display>(
        &mut self,
        frames: Vec<Incoming<E>>,
        bucket: &mut Bucket,
    ) -> Option<Flow> {
        let mut syncs = Vec::new();
        for frame in frames {
            let Some(decoded) = self.decode(frame, bucket) else {
                self.sync_many(std::mem::take(&mut syncs)).await;
                return None;
            };
            let flow = match decoded {
                Ok(None) => continue,
                Ok(Some(
                    Message::Request {
                        document_id, data, ..
                    }
                    | Message::Sync {
                        document_id, data, ..
                    },
                )) if self.joined => {
                    syncs.push((document_id, data));
                    continue;
                }
                Ok(Some(message)) => {
                    let flow = self.sync_many(std::mem::take(&mut syncs)).await;
                    if let Flow::Close(..) = flow {
                        return Some(flow);
                    }
                    self.handle(message).await
                }
                Err(flow) => {
                    // What came before the offending frame still counts.
                    self.sync_many(std::mem::take(&mut syncs)).await;
                    flow
                }
            };
            if let Flow::Close(..) = flow {
                return Some(flow);
            }
        }
        Some(self.sync_many(syncs).await)
    }

    async fn handle(&mut self, message: Message) -> Flow {
        if !self.joined {
            return self.join(message);
        }
        match message {
            Message::Request {
                document_id, data, ..
            }
            | Message::Sync {
                document_id, data, ..
            } => self.sync_many(vec![(document_id, data)]).await,
            Message::Ephemeral {
                document_id, data, ..
            } => {
                if self.presences.take()
                    && let Ok(mut presence) = protocol::decode_presence(&data)
                    && self.connection.holds(&document_id)
                {
                    // Presence speaks for the signed-in agent, whatever it claims.
                    presence.agent = self.agent.clone();
                    let id = self.connection.id;
                    self.state.hub.share_presence(document_id, &presence, id);
                }
                Flow::Continue
            }
            Message::BatonCatchUp { since, .. } => self.catch_up(since).await,
            Message::BatonFetch { document_ids, .. } if self.baton => self.fetch(document_ids),
            Message::BatonNotificationRead { ids, .. } => {
                if crate::notify::check_read_ids(&ids).is_err() {
                    return Flow::Close(POLICY, "too many or too long notification ids");
                }
                let hub = self.state.hub.clone();
                let except = Some(self.connection.id);
                if let Err(err) = hub.mark_read(&self.agent, ids, except).await {
                    tracing::warn!(error = %err, "marking notifications read failed");
                }
                Flow::Continue
            }
            Message::Leave { .. } => Flow::Close(NORMAL, "bye"),
            _ => Flow::Continue,
        }
    }

    fn join(&mut self, message: Message) -> Flow {
        let Message::Join {
            sender_id,
            supported_protocol_versions,
            baton,
            ..
        } = message
        else {
            return Flow::Close(POLICY, "the first message must be join");
        };
        if !supported_protocol_versions
            .iter()
            .any(|v| v == protocol::PROTOCOL_V1)
        {
            self.send(Message::Error {
                sender_id: SERVER_PEER.to_owned(),
                message: "unsupported protocol version; this server speaks 1".to_owned(),
            });
            return Flow::Close(POLICY, "unsupported protocol version");
        }
        if sender_id.is_empty() || sender_id.len() > 128 {
            return Flow::Close(POLICY, "a peer id must be 1 to 128 bytes");
        }
        self.sync_lead = protocol::sync_lead(SERVER_PEER, &sender_id);
        self.peer_id = sender_id;
        self.baton = baton.is_some();
        self.joined = true;
        self.send(Message::Peer {
            sender_id: SERVER_PEER.to_owned(),
            target_id: self.peer_id.clone(),
            selected_protocol_version: protocol::PROTOCOL_V1.to_owned(),
            peer_metadata: Some(protocol::PeerMetadata {
                storage_id: None,
                is_ephemeral: false,
            }),
            baton: self.baton.then_some(protocol::BATON_VERSION),
        });
        Flow::Continue
    }

    /// Whether `document` exists (telling the peer when it does not); the
    /// first time, the connection starts to hold it, within its limit.
    async fn admit(&mut self, document: DocumentId) -> Result<bool, Flow> {
        if self.states.contains_key(&document) {
            return Ok(true);
        }
        if self.states.len() >= self.state.limits.max_documents {
            return Err(Flow::Close(
                POLICY,
                "this connection holds too many documents",
            ));
        }
        match self.state.hub.has_document(&document).await {
            Ok(true) => {}
            Ok(false) => {
                self.send(Message::DocUnavailable {
                    sender_id: SERVER_PEER.to_owned(),
                    target_id: self.peer_id.clone(),
                    document_id: document,
                });
                return Ok(false);
            }
            Err(err) => {
                tracing::error!(error = %err, "document lookup failed");
                return Err(Flow::Close(SERVER_ERROR, "server error"));
            }
        }
        self.connection
            .documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(document);
        self.states.insert(document, PeerDoc::default());
        Ok(true)
    }

    /// Applies sync messages in order per document; different documents run
    /// side by side, so their commits join one group in the store.
    async fn sync_many(&mut self, batch: Vec<(DocumentId, Vec<u8>)>) -> Flow {
        let mut groups: Vec<(DocumentId, Vec<Vec<u8>>)> = Vec::new();
        for (document, data) in batch {
            match groups.iter_mut().find(|(d, _)| *d == document) {
                Some((_, messages)) => messages.push(data),
                None => groups.push((document, vec![data])),
            }
        }
        // Every document is admitted before any state is taken out to run:
        // the limit counts what the connection holds, this batch's included.
        let mut admitted = Vec::with_capacity(groups.len());
        for (document, messages) in groups {
            match self.admit(document).await {
                Ok(true) => admitted.push((document, messages)),
                Ok(false) => {}
                Err(flow) => return flow,
            }
        }
        let mut runs = Vec::with_capacity(admitted.len());
        for (document, messages) in admitted {
            let mut state = self.states.remove(&document).unwrap_or_default();
            self.waiting -= state.waiting_bytes();
            let hub = self.state.hub.clone();
            let sender = self.sender.clone();
            runs.push(async move {
                let mut outcomes = Vec::with_capacity(messages.len());
                for data in messages {
                    let outcome = match sync::Message::decode(&data) {
                        Ok(message) => Some(
                            hub.receive_sync(document, &sender, &mut state, message)
                                .await,
                        ),
                        Err(_) => None,
                    };
                    outcomes.push(outcome);
                }
                (document, state, outcomes)
            });
        }
        let mut flow = Flow::Continue;
        for (document, state, outcomes) in futures_util::future::join_all(runs).await {
            self.waiting += state.waiting_bytes();
            self.states.insert(document, state);
            // Every outcome is answered and announced (its change is
            // committed); the first close wins.
            for outcome in outcomes {
                let next = self.synced(document, outcome).await;
                if let Flow::Continue = flow {
                    flow = next;
                }
            }
        }
        if self.waiting > self.state.limits.max_waiting {
            return Flow::Close(POLICY, "too many changes wait for changes never sent");
        }
        flow
    }

    /// Answers one sync message: the refusal, the announcement to the
    /// others, the reply. `None` is a message that did not decode.
    async fn synced(
        &mut self,
        document: DocumentId,
        outcome: Option<Result<Received, HubError>>,
    ) -> Flow {
        let Some(outcome) = outcome else {
            self.error(
                Some(document),
                "malformed",
                "the sync message does not decode".to_owned(),
            );
            return Flow::Continue;
        };
        let received = match outcome {
            Ok(received) => received,
            Err(HubError::Deactivated) => {
                return Flow::Close(POLICY, "this account has been deactivated");
            }
            Err(err) => {
                // Nothing of it was kept, and the peer's sync state here
                // starts over: a fresh message makes the peer send again.
                tracing::error!(error = %err, %document, "sync failed");
                self.resync(document);
                return Flow::Continue;
            }
        };
        if let Some(violation) = &received.refused {
            tracing::info!(%document, code = violation.code(), principal = %self.sender.principal, "refused a change");
            self.error(Some(document), violation.code(), violation.to_string());
        }
        if received.changed {
            self.state
                .hub
                .announce(document, Some(self.connection.id), &received.notifications);
        }
        if let Some(reply) = received.reply {
            self.send_sync(document, reply);
        }
        Flow::Continue
    }

    /// Makes the peer send its changes to `document` again: a message with
    /// no heads reads to automerge as "the server lost everything", which
    /// clears what the peer counts as sent, so the next exchange resends
    /// what the server lacks.
    fn resync(&mut self, document: DocumentId) {
        self.send_sync(
            document,
            sync::Message {
                heads: Vec::new(),
                need: Vec::new(),
                have: Vec::new(),
                changes: sync::ChunkList::empty(),
                flags: None,
                version: sync::MessageVersion::V1,
            },
        );
    }

    pub(super) fn send_sync(&mut self, document: DocumentId, message: sync::Message) {
        self.send_sync_tail(&protocol::sync_tail(&document, &message.encode()));
    }
}
