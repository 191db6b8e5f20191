//! What receiving keeps and gives: a peer's sync state per document (with
//! the changes that wait for a parent), who sends, and what one message did.

use std::sync::Arc;

use automerge::Change;
use automerge::sync;
use baton_shared::validate::{OnlineHistory, Principal, Violation};

use crate::store::NotificationRow;

/// What receiving one sync message did.
#[derive(Debug, Default)]
pub struct Received {
    /// The answer to send back to the peer.
    pub reply: Option<sync::Message>,
    /// Why the peer's change was refused, if it was.
    pub refused: Option<Violation>,
    /// Whether the document changed (others must hear of it).
    pub changed: bool,
    pub notifications: Vec<NotificationRow>,
    /// The settlement after the commit found the conversation changed by
    /// another node: it is made again once the copy is unlocked.
    pub(super) settle_again: bool,
}

impl Received {
    pub(super) fn refusal(violation: Violation) -> Self {
        Received {
            refused: Some(violation),
            ..Received::default()
        }
    }
}

/// What the server keeps for one peer and one document between messages.
#[derive(Debug, Default)]
pub struct PeerDoc {
    /// Automerge's sync state with the peer.
    pub state: sync::State,
    /// Changes that came before a change they depend on. A peer skips a
    /// change our bloom filter wrongly says we have and sends its successors;
    /// it counts those as sent and never sends them again, so they wait here
    /// (as in automerge's own queue) until the gap is filled.
    pub(super) early: Vec<Change>,
}

impl PeerDoc {
    /// A peer that was sent the document whole at `heads` (`baton/fetch`):
    /// as if a sync exchange had ended there.
    pub fn in_step(heads: Vec<automerge::ChangeHash>) -> Self {
        PeerDoc {
            state: baton_shared::docset::in_step(heads),
            early: Vec::new(),
        }
    }

    /// Bytes of changes waiting for a change they depend on.
    pub fn waiting_bytes(&self) -> usize {
        self.early.iter().map(|c| c.raw_bytes().len()).sum()
    }

    /// Forgets what the peer claimed to have: the next exchange starts over.
    pub(super) fn reset(&mut self) {
        self.state = sync::State::new();
        self.early.clear();
    }
}

/// Who sends changes over one connection.
#[derive(Debug, Clone)]
pub struct Sender {
    pub principal: Principal,
    /// When the server saw the principal's agent online (this connection
    /// included), for judging timestamps.
    pub online: Arc<OnlineHistory>,
}

impl Sender {
    /// A sender the server saw online for the whole of this connection only.
    pub fn new(principal: Principal, online: OnlineHistory) -> Self {
        Sender {
            principal,
            online: Arc::new(online),
        }
    }
}
