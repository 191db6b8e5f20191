//! What a committed conversation change means outside the document: the
//! projection row lists read, and the replies to deliver to the customer.
//! (Who is told is `notify`'s.)

use std::collections::HashSet;

use baton_shared::ids::DocumentId;
use baton_shared::model::{Author, Conversation, MessageKind};
use baton_shared::summary::RowSummary;
use baton_shared::workflow::TriggerEvent;

use crate::store::{ConversationRow, ReplyRow};

/// The projection row of a conversation: its preview, message count and
/// sort key (last activity) are `shared::summary`'s, as the app's inbox
/// derives them.
pub fn conversation_row(conversation: &Conversation, document: DocumentId) -> ConversationRow {
    let summary = RowSummary::of(conversation);
    ConversationRow {
        id: conversation.id.clone(),
        document,
        channel: conversation.channel.clone(),
        subject: conversation.subject.clone(),
        customer_name: conversation.customer.name.clone(),
        customer_email: conversation.customer.email.clone(),
        status: conversation.status,
        assignee: conversation.assignee().cloned(),
        created_at: conversation.created_at,
        last_activity_at: summary.last_activity_at,
        preview: summary.preview,
        messages: summary.messages,
        unassigned_since: TriggerEvent::unassigned(conversation).map(|event| event.at),
    }
}

/// Agents' replies (not notes) that `after` has and `before` had not.
pub fn new_replies(before: Option<&Conversation>, after: &Conversation) -> Vec<ReplyRow> {
    let known: HashSet<_> = before
        .map(|b| b.messages.iter().map(|m| &m.id).collect())
        .unwrap_or_default();
    after
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::Message && !known.contains(&m.id))
        .filter_map(|m| match &m.author {
            Author::Agent(agent) => Some(ReplyRow {
                seq: 0,
                message: m.id.to_string(),
                channel: after.channel.clone(),
                conversation: after.id.clone(),
                author: agent.clone(),
                body: m.body.clone(),
                at: m.at,
                customer_email: after.customer.email.clone(),
            }),
            _ => None,
        })
        .collect()
}
