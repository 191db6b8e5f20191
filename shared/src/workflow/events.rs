//! The events a change to a conversation produced, as workflow triggers see
//! them: its creation, each new customer message, each reopening, and a
//! conversation left unassigned; and which trigger fires on which.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Trigger;
use crate::ids::{ConversationId, MessageId};
use crate::model::{ActivityEvent, Author, Conversation, Message, MessageKind, Millis, Status};

/// What happened, as workflow triggers see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A customer opened a conversation.
    ConversationCreated,
    /// A customer wrote.
    CustomerMessage,
    /// A resolved conversation was reopened.
    ConversationReopened,
    /// The conversation has had no assignee since `since`.
    Unassigned {
        /// When it was last left without one.
        since: Millis,
    },
}

impl EventKind {
    /// The stored spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::ConversationCreated => "conversation_created",
            EventKind::CustomerMessage => "customer_message",
            EventKind::ConversationReopened => "conversation_reopened",
            EventKind::Unassigned { .. } => "unassigned",
        }
    }
}

/// One event on one conversation, with the key that identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriggerEvent {
    /// What happened.
    pub kind: EventKind,
    /// Identifies the event (e.g. `message:msg_…`): the same event always has
    /// the same key, wherever and however often it is seen.
    pub key: String,
    /// The customer's message the event is about, if any.
    pub text: Option<String>,
    /// When it happened.
    pub at: Millis,
}

impl TriggerEvent {
    /// "Still unassigned": an open conversation with no assignee, since the
    /// write that left it so. `None` when it is assigned or resolved.
    pub fn unassigned(conversation: &Conversation) -> Option<TriggerEvent> {
        if conversation.status != Status::Open || conversation.assignee().is_some() {
            return None;
        }
        let since = conversation
            .effective_assignment()
            .map_or(conversation.created_at, |a| a.at);
        Some(Self::waiting(&conversation.id, since))
    }

    /// The "still unassigned" event of `conversation`, unassigned since `since`.
    pub fn waiting(conversation: &ConversationId, since: Millis) -> TriggerEvent {
        TriggerEvent {
            kind: EventKind::Unassigned { since },
            key: format!("unassigned:{conversation}:{since}"),
            text: None,
            at: since,
        }
    }
}

/// The events a change from `before` (`None` for a new conversation) to
/// `after` produced: creation, each new customer message, each reopening.
pub fn events_between(before: Option<&Conversation>, after: &Conversation) -> Vec<TriggerEvent> {
    let mut events = Vec::new();
    let known: BTreeSet<&MessageId> = before
        .map(|b| b.messages.iter().map(|m| &m.id).collect())
        .unwrap_or_default();
    let customer = |m: &&Message| m.author == Author::Customer && m.kind == MessageKind::Message;
    if before.is_none() {
        events.push(TriggerEvent {
            kind: EventKind::ConversationCreated,
            key: format!("created:{}", after.id),
            text: after.messages.iter().find(customer).map(|m| m.body.clone()),
            at: after.created_at,
        });
    }
    for message in after
        .messages
        .iter()
        .filter(customer)
        .filter(|m| !known.contains(&m.id))
    {
        events.push(TriggerEvent {
            kind: EventKind::CustomerMessage,
            key: format!("message:{}", message.id),
            text: Some(message.body.clone()),
            at: message.at,
        });
    }
    let reopened = |c: &Conversation| -> BTreeSet<Millis> {
        c.activity
            .iter()
            .filter(|a| a.event == ActivityEvent::Reopened)
            .map(|a| a.at)
            .collect()
    };
    let seen = before.map(reopened).unwrap_or_default();
    for at in reopened(after).difference(&seen) {
        events.push(TriggerEvent {
            kind: EventKind::ConversationReopened,
            key: format!("reopened:{}:{at}", after.id),
            text: None,
            at: *at,
        });
    }
    events
}

impl Trigger {
    /// Whether this trigger fires on `event` at `now`.
    pub fn fires_on(&self, event: &EventKind, now: Millis) -> bool {
        match (self, event) {
            (Trigger::ConversationCreated, EventKind::ConversationCreated)
            | (Trigger::CustomerMessage, EventKind::CustomerMessage)
            | (Trigger::ConversationReopened, EventKind::ConversationReopened) => true,
            (Trigger::UnassignedFor { minutes }, EventKind::Unassigned { since }) => {
                now.saturating_sub(*since) >= i64::from(*minutes) * 60_000
            }
            _ => false,
        }
    }
}
