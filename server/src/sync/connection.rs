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
use futures_util::{SinkExt, StreamExt};

use super::limits::Bucket;
use crate::AppState;
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
    states: HashMap<DocumentId, sync::State>,
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
                match frame {
                    None | Some(Ok(Frame::Close(_))) => break None,
                    Some(Err(err)) => {
                        let text = err.to_string();
                        if text.contains("too long") || text.contains("too big") {
                            Flow::Close(TOO_BIG, "frame over the size limit")
                        } else {
                            break None;
                        }
                    }
                    Some(Ok(Frame::Binary(bytes))) => {
                        if bucket.take() {
                            peer.handle(&bytes).await
                        } else {
                            Flow::Close(POLICY, "too many messages; slow down")
                        }
                    }
                    Some(Ok(Frame::Text(_))) => Flow::Close(UNSUPPORTED, "frames must be binary CBOR"),
                    Some(Ok(_)) => Flow::Continue,
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

    async fn handle(&mut self, bytes: &[u8]) -> Flow {
        let message = match Message::decode(bytes) {
            Ok(message) => message,
            Err(err) => {
                tracing::debug!(error = %err, "malformed frame");
                return Flow::Close(INVALID, "malformed message");
            }
        };
        if !self.joined {
            return self.join(message);
        }
        match message {
            Message::Request {
                document_id, data, ..
            }
            | Message::Sync {
                document_id, data, ..
            } => self.sync(document_id, &data).await,
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

    async fn sync(&mut self, document: DocumentId, data: &[u8]) -> Flow {
        let hub = self.state.hub.clone();
        if !self.states.contains_key(&document) {
            match hub.has_document(&document).await {
                Ok(true) => {}
                Ok(false) => {
                    self.send(Message::DocUnavailable {
                        sender_id: SERVER_PEER.to_owned(),
                        target_id: self.peer_id.clone(),
                        document_id: document,
                    });
                    return Flow::Continue;
                }
                Err(err) => {
                    tracing::error!(error = %err, "document lookup failed");
                    return Flow::Close(1011, "server error");
                }
            }
            self.connection
                .documents
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(document);
        }
        let Ok(message) = sync::Message::decode(data) else {
            self.error(
                Some(document),
                "malformed",
                "the sync message does not decode".to_owned(),
            );
            return Flow::Continue;
        };
        let state = self.states.entry(document).or_default();
        let received = match hub
            .receive_sync(document, &self.principal, state, message)
            .await
        {
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
            hub.announce(document, Some(self.connection.id), &received.notifications);
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
            if let Ok(Some(message)) = hub.generate_sync(document, state).await {
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
