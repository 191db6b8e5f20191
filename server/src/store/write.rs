//! The writes Baton makes, and what a committed request hands back.

use baton_shared::ids::{AgentId, ConversationId, DocumentId, WorkflowId};
use baton_shared::model::{Millis, Role};

#[cfg(doc)]
use super::StoreError;
use super::{
    AgentRow, ChannelRow, ConversationRow, DocumentKind, NotificationRow, ReplyRow, WorkflowRunRow,
};
use crate::broadcast::Broadcast;

/// One write; a request's writes commit together or not at all.
#[derive(Debug, Clone)]
pub enum Write {
    /// New changes to a document (`chunk`), or a compacted `snapshot` that
    /// replaces the stored snapshot and every chunk. Gets a commit sequence.
    Document {
        id: DocumentId,
        kind: DocumentKind,
        chunk: Vec<u8>,
        snapshot: Option<Vec<u8>>,
        /// The document's heads after this write (hex), for catch-up.
        heads: Vec<String>,
        /// The stored commit the writer's copy was last in step with; `None`
        /// for a new document. If another process (or node) committed
        /// since, the whole request fails with [`StoreError::Stale`]: the
        /// writer catches up and makes its change again.
        after: Option<u64>,
    },
    Conversation(ConversationRow),
    Notification(NotificationRow),
    /// Uses the sequence of the request's latest `Document` write.
    Reply(ReplyRow),
    Meta {
        key: String,
        value: String,
    },
    Agent(AgentRow),
    SetAgentActive {
        id: AgentId,
        active: bool,
    },
    /// An admin renamed an agent or changed their role.
    UpdateAgent {
        id: AgentId,
        name: String,
        role: Role,
    },
    Channel(ChannelRow),
    Session {
        token_hash: String,
        agent: AgentId,
        created_at: Millis,
        expires_at: Millis,
    },
    DeleteSession {
        token_hash: String,
    },
    DeleteSessionsOf {
        agent: AgentId,
    },
    ApiToken {
        token_hash: String,
        agent: AgentId,
        created_at: Millis,
        /// `None` for a token that never expires.
        expires_at: Option<Millis>,
    },
    RevokeApiTokensOf {
        agent: AgentId,
    },
    /// Revokes the one token whose id ([`ApiTokenRow::id`]) this is.
    RevokeApiToken {
        id: String,
    },
    /// A connection of `agent` opened (`id` names it).
    OnlineStarted {
        id: String,
        agent: AgentId,
        at: Millis,
    },
    /// These open connections were alive at `at`.
    OnlineSeen {
        ids: Vec<String>,
        at: Millis,
    },
    OnlineEnded {
        id: String,
        at: Millis,
    },
    /// Connections of a process that died without closing them: they
    /// ended at most `grace` after they were last seen.
    CloseStaleOnline {
        seen_before: Millis,
        grace: Millis,
    },
    /// Forgets connections that ended before `ended_before`.
    PruneOnline {
        ended_before: Millis,
    },
    MarkNotificationsRead {
        agent: AgentId,
        ids: Vec<String>,
    },
    BindActor {
        actor: String,
        principal: String,
    },
    /// Fails the request with [`StoreError::Conflict`] if the key exists.
    WorkflowRun(WorkflowRunRow),
    /// Corrects when a conversation became unassigned (the projection of a
    /// conversation stored before that was kept).
    UnassignedSince {
        conversation: ConversationId,
        since: Option<Millis>,
    },
    /// The agent a round-robin workflow picked last, replacing `previous`
    /// (the pick read before the run); fails with [`StoreError::Stale`]
    /// when another node moved it meanwhile.
    WorkflowCursor {
        workflow: WorkflowId,
        agent: AgentId,
        previous: Option<AgentId>,
    },
    /// Written once: fails with [`StoreError::Conflict`] if the key is set.
    MetaOnce {
        key: String,
        value: String,
    },
    /// Forgets what was told before `before` (every node has long read it).
    PruneOutbox {
        before: Millis,
    },
    /// Tells every other node's sockets (notifications and read marks are
    /// told by their own writes).
    Broadcast(Broadcast),
}

/// What a committed request produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// Each `Notification` write's id and the count stored for it (a
    /// batch's row counts every conversation of the batch so far).
    pub counts: Vec<(String, u32)>,
    /// The commit sequence of each `Document` write, in order.
    pub seqs: Vec<u64>,
}
