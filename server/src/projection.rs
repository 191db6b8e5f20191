//! What a committed conversation change means outside the document: the
//! projection row lists read, and the replies to deliver to the customer.
//! (Who is told is `notify`'s.)

use std::collections::HashSet;

use baton_shared::ids::DocumentId;
use baton_shared::model::{Author, Conversation, MessageKind};
use baton_shared::workflow::TriggerEvent;

use crate::store::{ConversationRow, ReplyRow};

const PREVIEW_CHARS: usize = 140;

/// The projection row of a conversation.
pub fn conversation_row(conversation: &Conversation, document: DocumentId) -> ConversationRow {
    let last = conversation
        .messages
        .iter()
        .rev()
        .find(|m| m.kind == MessageKind::Message);
    let preview = last
        .map(|m| {
            let flat: String = m.body.split_whitespace().collect::<Vec<_>>().join(" ");
            flat.chars().take(PREVIEW_CHARS).collect()
        })
        .unwrap_or_default();
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
        last_activity_at: conversation.latest_at(),
        preview,
        messages: u32::try_from(conversation.messages.len()).unwrap_or(u32::MAX),
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
