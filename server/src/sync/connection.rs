//! One peer's connection: the automerge-repo v1 handshake, sync and
//! ephemeral messages, Baton's `baton/` messages for peers that announced
//! them, and the limits. Ends on close, error, idle timeout or shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message as Frame, WebSocket};
use baton_shared::automerge::sync;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::protocol::{self, ChangedDocument, Message};
use baton_shared::validate::Principal;
use futures_util::{FutureExt, SinkExt, StreamExt};

use super::limits::Bucket;
use crate::AppState;
use crate::hub::PeerDoc;
use crate::live::{Connection, Ending, Push};
use crate::projection::render;
use crate::store::Write;

/// The server's peer id on the wire.
pub const SERVER_PEER: &str = "baton-server";

/// Close codes (RFC 6455).
const GOING_AWAY: u16 = 1001;
const UNSUPPORTED: u16 = 1003;
const INVALID: u16 = 1007;
const POLICY: u16 = 1008;
const TOO_BIG: u16 = 1009;
/// "Service restart": the client should reconnect.
const RESTART: u16 = 1012;

/// Most frames handled as one batch.
const MAX_BATCH: usize = 64;

type Incoming = Option<Result<Frame, axum::Error>>;

enum Flow {
    Continue,
    Close(u16, &'static str),
}

struct Peer {
    state: AppState,
    connection: Arc<Connection>,
    principal: Principal,
    agent: AgentId,
    peer_id: String,
    baton: bool,
    joined: bool,
    states: HashMap<DocumentId, PeerDoc>,
    /// Bytes of changes waiting, across documents, for changes they depend on.
    waiting: usize,
    out: Vec<Message>,
}

pub async fn serve(socket: WebSocket, state: AppState, agent: AgentId, principal: Principal) {
    let connection = state.hub.live.connect(agent.clone());
    let limits = state.limits;
    let shutdown = state.shutdown.clone();
    let mut peer = Peer {
        state: state.clone(),
        connection: connection.clone(),
        principal,
        agent,
        peer_id: String::new(),
        baton: false,
        joined: false,
        states: HashMap::new(),
        waiting: 0,
        out: Vec::new(),
    };
    let (mut sink, mut stream) = socket.split();
    let mut bucket = Bucket::new(&limits);
    let mut heartbeat = tokio::time::interval(limits.heartbeat);
    heartbeat.tick().await;
    let mut heard = Instant::now();
    let close = loop {
        let flow = tokio::select! {
            () = shutdown.cancelled() => Flow::Close(GOING_AWAY, "the server is restarting"),
            () = connection.wake.notified() => peer.flush_live().await,
            _ = heartbeat.tick() => {
                if heard.elapsed() > limits.idle {
                    Flow::Close(POLICY, "idle for too long")
                } else if sink.send(Frame::Ping(Default::default())).await.is_err() {
                    break None;
                } else {
                    Flow::Continue
                }
            }
            frame = stream.next() => {
                heard = Instant::now();
                // Frames that have already arrived are handled as one batch:
                // sync messages for different documents then run side by
                // side and share one commit (one fsync) instead of one each.
                let mut frames = vec![frame];
                while frames.len() < MAX_BATCH
                    && matches!(frames.last(), Some(Some(Ok(Frame::Binary(_)))))
                {
                    match stream.next().now_or_never() {
                        Some(next) => frames.push(next),
                        None => break,
                    }
                }
                match peer.frames(frames, &mut bucket).await {
                    Some(flow) => flow,
                    None => break None,
                }
            }
        };
        for message in peer.out.drain(..) {
            if sink
                .send(Frame::Binary(message.encode().into()))
                .await
                .is_err()
            {
                break;
            }
        }
        if let Flow::Close(code, reason) = flow {
            break Some((code, reason));
        }
    };
    if let Some((code, reason)) = close {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = sink.send(Frame::Close(Some(frame))).await;
    }
    state.hub.live.disconnect(connection.id);
}

impl Peer {
    fn send(&mut self, message: Message) {
        self.out.push(message);
    }

    fn error(&mut self, document: Option<DocumentId>, code: &str, message: String) {
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

    /// Handles frames in their order, except that consecutive sync messages
    /// run together ([`Peer::sync_many`]). `None` ends the connection
    /// without a close frame (the peer left or the socket broke).
    async fn frames(&mut self, frames: Vec<Incoming>, bucket: &mut Bucket) -> Option<Flow> {
        let mut syncs = Vec::new();
        for frame in frames {
            let message = match frame {
                Some(Ok(Frame::Binary(bytes))) => {
                    if !bucket.take() {
                        Err(Flow::Close(POLICY, "too many messages; slow down"))
                    } else {
                        match Message::decode(&bytes) {
                            Ok(message) => Ok(message),
                            Err(err) => {
                                tracing::debug!(error = %err, "malformed frame");
                                Err(Flow::Close(INVALID, "malformed message"))
                            }
                        }
                    }
                }
                None | Some(Ok(Frame::Close(_))) => {
                    self.sync_many(std::mem::take(&mut syncs)).await;
                    return None;
                }
                Some(Err(err)) => {
                    let text = err.to_string();
                    if text.contains("too long") || text.contains("too big") {
                        Err(Flow::Close(TOO_BIG, "frame over the size limit"))
                    } else {
                        self.sync_many(std::mem::take(&mut syncs)).await;
                        return None;
                    }
                }
                Some(Ok(Frame::Text(_))) => {
                    Err(Flow::Close(UNSUPPORTED, "frames must be binary CBOR"))
                }
                Some(Ok(_)) => continue,
            };
            let flow = match message {
                Ok(
                    Message::Request {
                        document_id, data, ..
                    }
                    | Message::Sync {
                        document_id, data, ..
                    },
                ) if self.joined => {
                    syncs.push((document_id, data));
                    continue;
                }
                Ok(message) => {
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
                if let Ok(mut presence) = protocol::decode_presence(&data)
                    && self.connection.holds(&document_id)
                {
                    // Presence speaks for the signed-in agent, whatever it claims.
                    presence.agent = self.agent.clone();
                    let id = self.connection.id;
                    self.state.hub.live.presence(document_id, &presence, id);
                }
                Flow::Continue
            }
            Message::BatonCatchUp { since, .. } => self.catch_up(since).await,
            Message::BatonNotificationRead { ids, .. } => {
                if ids.len() > 1000 {
                    return Flow::Close(POLICY, "too many notification ids");
                }
                let write = Write::MarkNotificationsRead {
                    agent: self.agent.clone(),
                    ids: ids.clone(),
                };
                if self.state.hub.store.commit(vec![write]).await.is_ok() {
                    let id = self.connection.id;
                    self.state.hub.live.read(&self.agent, &ids, id);
                }
                Flow::Continue
            }
            Message::Leave { .. } => Flow::Close(1000, "bye"),
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
            baton: self.baton.then_some(protocol::BATON_V1),
        });
        Flow::Continue
    }

    /// Whether `document` exists (telling the peer when it does not); the
    /// first time, the connection starts to hold it.
    async fn admit(&mut self, document: DocumentId) -> Result<bool, Flow> {
        if self.states.contains_key(&document) {
            return Ok(true);
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
                return Err(Flow::Close(1011, "server error"));
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
        let mut runs = Vec::with_capacity(groups.len());
        for (document, messages) in groups {
            match self.admit(document).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(flow) => return flow,
            }
            let mut state = self.states.remove(&document).unwrap_or_default();
            self.waiting -= state.waiting_bytes();
            let hub = self.state.hub.clone();
            let principal = self.principal.clone();
            runs.push(async move {
                let mut outcomes = Vec::with_capacity(messages.len());
                for data in messages {
                    let outcome = match sync::Message::decode(&data) {
                        Ok(message) => Some(
                            hub.receive_sync(document, &principal, &mut state, message)
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
                let next = self.synced(document, outcome);
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
    fn synced(
        &mut self,
        document: DocumentId,
        outcome: Option<Result<crate::hub::Received, crate::hub::HubError>>,
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
            Err(crate::hub::HubError::Deactivated) => {
                return Flow::Close(POLICY, "this account has been deactivated");
            }
            Err(err) => {
                tracing::error!(error = %err, %document, "sync failed");
                self.error(
                    Some(document),
                    "server_error",
                    "the server could not apply this change; try again".to_owned(),
                );
                return Flow::Continue;
            }
        };
        if let Some(violation) = &received.refused {
            tracing::info!(%document, code = violation.code(), principal = %self.principal, "refused a change");
            self.error(Some(document), violation.code(), violation.to_string());
        }
        if received.changed {
            self.state
                .hub
                .announce(document, Some(self.connection.id), &received.notifications);
        }
        if let Some(reply) = received.reply {
            self.send(Message::Sync {
                sender_id: SERVER_PEER.to_owned(),
                target_id: self.peer_id.clone(),
                document_id: document,
                data: reply.encode(),
            });
        }
        Flow::Continue
    }

    async fn catch_up(&mut self, since: u64) -> Flow {
        let store = &self.state.hub.store;
        let (latest, documents) =
            match (store.latest_seq().await, store.documents_since(since).await) {
                (Ok(latest), Ok(documents)) => (latest, documents),
                _ => return Flow::Close(1011, "server error"),
            };
        if self.baton {
            let documents = documents
                .into_iter()
                .map(|(document_id, seq, heads)| ChangedDocument {
                    document_id,
                    heads,
                    seq,
                })
                .collect();
            self.send(Message::BatonHeads {
                sender_id: SERVER_PEER.to_owned(),
                target_id: self.peer_id.clone(),
                seq: latest,
                documents,
            });
        }
        Flow::Continue
    }

    /// Sends what others changed meanwhile: syncs, notifications, presence.
    async fn flush_live(&mut self) -> Flow {
        match self.connection.ending() {
            Some(Ending::Deactivated) => {
                return Flow::Close(POLICY, "this account has been deactivated");
            }
            Some(Ending::RoleChanged) => {
                return Flow::Close(RESTART, "your role changed; reconnect");
            }
            None => {}
        }
        let hub = self.state.hub.clone();
        let unheld = self.connection.take_unheld();
        if self.baton && !unheld.is_empty() {
            // New to this peer (a new conversation): it opens them. Sequence
            // 0 leaves the peer's catch-up position where it was.
            let documents = unheld
                .into_iter()
                .map(|document_id| ChangedDocument {
                    document_id,
                    heads: Vec::new(),
                    seq: 0,
                })
                .collect();
            self.send(Message::BatonHeads {
                sender_id: SERVER_PEER.to_owned(),
                target_id: self.peer_id.clone(),
                seq: 0,
                documents,
            });
        }
        for document in self.connection.take_dirty() {
            let Some(state) = self.states.get_mut(&document) else {
                continue;
            };
            if let Ok(Some(message)) = hub.generate_sync(document, &mut state.state).await {
                self.out.push(Message::Sync {
                    sender_id: SERVER_PEER.to_owned(),
                    target_id: self.peer_id.clone(),
                    document_id: document,
                    data: message.encode(),
                });
            }
        }
        let (pushes, lagged) = self.connection.take_pushes();
        if lagged {
            self.error(
                None,
                "resync_notifications",
                "some notifications were not delivered live; reload them".to_owned(),
            );
        }
        for push in pushes {
            match push {
                Push::Notification(row) if self.baton => {
                    let notification = protocol::Notification {
                        id: row.id.clone(),
                        agent: row.agent.clone(),
                        conversation: row.conversation.clone(),
                        document_id: row.document,
                        reason: crate::projection::parse_reason(&row.reason),
                        text: render(&row),
                        batch: row.batch.clone(),
                        count: row.count,
                        at: row.at,
                        read: row.read,
                    };
                    self.send(Message::BatonNotification {
                        sender_id: SERVER_PEER.to_owned(),
                        target_id: self.peer_id.clone(),
                        notification,
                    });
                }
                Push::NotificationsRead(ids) if self.baton => {
                    self.send(Message::BatonNotificationRead {
                        sender_id: SERVER_PEER.to_owned(),
                        target_id: self.peer_id.clone(),
                        ids,
                    });
                }
                Push::Presence { document, presence } => {
                    self.send(Message::Ephemeral {
                        sender_id: SERVER_PEER.to_owned(),
                        target_id: self.peer_id.clone(),
                        count: 0,
                        session_id: SERVER_PEER.to_owned(),
                        document_id: document,
                        data: protocol::encode_presence(&presence),
                    });
                }
                _ => {}
            }
        }
        Flow::Continue
    }
}
