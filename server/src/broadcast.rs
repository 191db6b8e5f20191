//! What one node tells the sockets of every node. The committing node pushes
//! it to its own sockets at once; it is also written to the store's outbox
//! in the same commit, and every other node (or a server beside the command
//! line) reads it from there by commit sequence and pushes it to theirs.

use baton_shared::ids::AgentId;
use serde::{Deserialize, Serialize};

use crate::store::NotificationRow;

/// Why the server ends every connection of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// The agent was deactivated: their sessions are gone too.
    Deactivated,
    /// The agent's role changed: their rights on the socket must be
    /// re-established, so the client reconnects.
    RoleChanged,
    /// The session or API token the connection signed in with ended
    /// (signed out, expired or revoked).
    SignedOut,
}

/// One thing every node's sockets must hear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Broadcast {
    /// A notification as stored (a batch's row with its count so far).
    Notification { row: NotificationRow },
    /// The agent read these notifications.
    Read { agent: AgentId, ids: Vec<String> },
    /// Every connection of the agent ends.
    Ended { agent: AgentId, why: Ending },
    /// Connections signed in with a credential whose hash starts with
    /// `credential` end (a session signed out, an API token revoked).
    SignedOut { credential: String },
}

impl Broadcast {
    /// The outbox's `kind` column: what the row holds, for people reading
    /// the table.
    pub fn kind(&self) -> &'static str {
        match self {
            Broadcast::Notification { .. } => "notification",
            Broadcast::Read { .. } => "read",
            Broadcast::Ended { .. } => "ended",
            Broadcast::SignedOut { .. } => "signed_out",
        }
    }
}
