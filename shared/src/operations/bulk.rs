//! Bulk assign / reassign / unassign over many conversation documents: each
//! conversation gets its own change, all under one batch id, and the caller
//! learns what happened to each one.

use automerge::AutoCommit;

use super::{AssignOutcome, OpError, assign};
use crate::ids::{AgentId, BatchId, ConversationId};
use crate::model::{By, Millis};
use crate::workspace::Workspace;

/// What a bulk action did to one conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOutcome {
    /// The conversation.
    pub conversation: ConversationId,
    /// What the assign did to it, or why it was not done.
    pub result: Result<AssignOutcome, OpError>,
}

/// A new batch id; notifications of one batch are grouped per recipient.
pub fn new_batch_id() -> BatchId {
    BatchId::random()
}

/// Assigns every conversation to `to` (or unassigns with `None`) under one batch.
/// A conversation that cannot take the change (resolved, unreadable) is
/// reported and left untouched; the others still change.
pub fn bulk_assign<'a>(
    conversations: impl IntoIterator<Item = (ConversationId, &'a mut AutoCommit)>,
    workspace: &Workspace,
    by: &By,
    to: Option<&AgentId>,
    batch: &BatchId,
    now: Millis,
) -> Vec<BulkOutcome> {
    conversations
        .into_iter()
        .map(|(conversation, doc)| BulkOutcome {
            conversation,
            result: assign(doc, workspace, by, to, Some(batch), now),
        })
        .collect()
}
