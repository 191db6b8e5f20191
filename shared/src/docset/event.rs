//! What a [`DocSet`](super::DocSet) tells its client after a message.

use crate::ids::DocumentId;
use crate::protocol::{Notification, Presence};

/// Something the client should react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server answered `join`.
    Joined {
        /// Whether the server speaks Baton's own `baton/` messages too.
        baton: bool,
    },
    /// A document changed because of what the server sent.
    Changed(DocumentId),
    /// The server has no such document (or it is out of scope).
    Unavailable(DocumentId),
    /// The server refused something (a change, a frame, a request).
    Refused {
        /// The document concerned, if any.
        document: Option<DocumentId>,
        /// The stable code, e.g. `not_assignee`.
        code: String,
        /// What happened, in words for the agent.
        message: String,
    },
    /// A notification for the signed-in agent.
    Notification(Notification),
    /// Notifications read elsewhere (another tab or device), by id.
    NotificationsRead(Vec<String>),
    /// What another agent is doing in a document (viewing, typing).
    Presence {
        /// The document they are in.
        document: DocumentId,
        /// What they are doing there.
        presence: Presence,
    },
    /// The answer to a catch-up: these documents changed since `since`.
    CaughtUp {
        /// The sequence to catch up from next time.
        seq: u64,
        /// The documents that changed.
        documents: Vec<DocumentId>,
    },
    /// A document arrived whole (`baton/fetch`) and is held: `bytes` load it
    /// as it is, so a client may keep them instead of saving it again.
    Fetched {
        /// The document.
        document: DocumentId,
        /// Its saved bytes, as the server sent them.
        bytes: Vec<u8>,
    },
    /// The server closed the protocol with an error message.
    Error(String),
}
