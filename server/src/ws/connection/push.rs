//! What a peer is owed besides answers: catch-up pages, and what others
//! did meanwhile (syncs of changed documents, new conversations,
//! notifications, read marks, presence), or the end of the connection.

use baton_shared::protocol::{self, ChangedDocument, Message};

use super::peer::Peer;
use super::{Flow, POLICY, RESTART, SERVER_ERROR, SERVER_PEER};
use crate::fanout::{Ending, Push};
use crate::store::CatchUp;

impl Peer {
    /// Answers a catch-up with the next page of documents committed after
    /// `since`; the peer asks again while `more` is set.
    pub(super) async fn catch_up(&mut self, since: u64) -> Flow {
        if !self.catch_ups.take() {
            self.error(
                None,
                "rate_limited",
                "too many catch-up requests; slow down".to_owned(),
            );
            return Flow::Continue;
        }
        let page = self.state.limits.catch_up_page;
        let Ok(CatchUp {
            seq,
            documents,
            more,
        }) = self.state.hub.reads().catch_up(since, page).await
        else {
            return Flow::Close(SERVER_ERROR, "server error");
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
                seq,
                documents,
                more,
            });
        }
        Flow::Continue
    }

    /// Sends what others changed meanwhile: syncs, notifications, presence.
    pub(super) async fn flush_live(&mut self) -> Flow {
        match self.connection.ending() {
            Some(Ending::Deactivated) => {
                return Flow::Close(POLICY, "this account has been deactivated");
            }
            Some(Ending::SignedOut) => {
                return Flow::Close(POLICY, "signed out: the session ended");
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
                more: false,
            });
        }
        for document in self.connection.take_dirty() {
            let Some(state) = self.states.get_mut(&document) else {
                continue;
            };
            if let Ok(Some(tail)) = hub.generate_sync_tail(document, &mut state.state).await {
                self.send_sync_tail(&tail);
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
                    let notification = crate::notify::to_wire(&row);
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
