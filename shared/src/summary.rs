//! One inbox row of a conversation, as both sides list it: the app's inbox
//! (from the documents it holds) and the server's projection (the table its
//! lists, counts and search read). Deriving it here once keeps the two in
//! step: the same preview, the same words, and above all the same order.
//!
//! The order is by **last activity**: the latest `at` anywhere in the
//! conversation (a message, a note, an activity entry, an assignment), so a
//! reassign or a resolve moves a conversation up, as does a customer's
//! message. Ties go to the larger conversation id. This is the server's
//! `ORDER BY last_activity_at DESC, id DESC`.

use std::cmp::Ordering;

use crate::clock::next_at;
use crate::ids::ConversationId;
use crate::model::{Author, Conversation, MessageKind, Millis};

/// How much of the last message a row shows, in characters.
pub const PREVIEW_CHARS: usize = 140;

/// What a list shows of a conversation, apart from its ids, status and
/// assignee (which the row copies from the conversation as they are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowSummary {
    /// The subject, or "(no subject)".
    pub subject: String,
    /// The customer's name, or their email when they gave no name.
    pub customer: String,
    /// The last message to or from the customer (notes excluded), on one
    /// line, cut at [`PREVIEW_CHARS`] with an ellipsis.
    pub preview: String,
    /// When that message was written (the conversation's start without one).
    pub last_message_at: Millis,
    /// The sort key: the latest `at` in the conversation.
    pub last_activity_at: Millis,
    /// Whether the customer spoke last, so the agents owe an answer.
    pub awaiting_reply: bool,
    /// Messages and notes.
    pub messages: u32,
}

impl RowSummary {
    /// The row of `conversation`, the same on the app and the server.
    ///
    /// ```
    /// # use baton_shared::conversation::{self, NewConversation};
    /// # use baton_shared::ids::AgentId;
    /// # use baton_shared::model::{Agent, Customer, Role};
    /// # let mut workspace = baton_shared::workspace::Workspace::default();
    /// # for (id, name) in [("agt_ana", "Ana"), ("agt_ben", "Ben")] {
    /// #     let (id, name, email) = (id.parse()?, name.into(), format!("{id}@example.com"));
    /// #     let (role, active, away, capacity) = (Role::Agent, true, false, None);
    /// #     let agent = Agent { id, name, email, role, active, away, capacity };
    /// #     workspace.agents.insert(agent.id.clone(), agent);
    /// # }
    /// # let now = 1_700_000_000_000;
    /// # let (name, email) = ("Dee".into(), "dee@example.com".into());
    /// # let customer = Customer { id: "cus_dee".into(), name, email };
    /// # let (id, channel) = ("cnv_refund".parse()?, "chn_email".parse()?);
    /// # let subject = "Where is my refund?".to_owned();
    /// # let new = NewConversation { id, channel, subject, customer, at: now - 60_000 };
    /// # let mut doc = conversation::create(&new)?;
    /// use baton_shared::operations;
    /// use baton_shared::summary::RowSummary;
    ///
    /// let body = "Where is   my refund?\nOrder 42.";
    /// operations::customer_message(&mut doc, &workspace, body, now)?;
    /// let row = RowSummary::of(&conversation::read(&doc)?);
    /// assert_eq!(row.subject, "Where is my refund?");
    /// assert_eq!(row.customer, "Dee");
    /// assert_eq!(row.preview, "Where is my refund? Order 42.");
    /// assert!(row.awaiting_reply);
    /// assert_eq!(row.messages, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn of(conversation: &Conversation) -> RowSummary {
        let last = conversation
            .messages
            .iter()
            .rev()
            .find(|m| m.kind == MessageKind::Message);
        let customer = &conversation.customer;
        RowSummary {
            subject: if conversation.subject.trim().is_empty() {
                "(no subject)".to_owned()
            } else {
                conversation.subject.clone()
            },
            customer: if customer.name.trim().is_empty() {
                customer.email.clone()
            } else {
                customer.name.clone()
            },
            preview: last.map(|m| preview(&m.body)).unwrap_or_default(),
            last_message_at: last.map_or(conversation.created_at, |m| m.at),
            last_activity_at: conversation.latest_at(),
            awaiting_reply: last.is_some_and(|m| m.author == Author::Customer),
            messages: u32::try_from(conversation.messages.len()).unwrap_or(u32::MAX),
        }
    }
}

/// The last activity of a row after this replica changed its conversation
/// at `now`: every write is stamped [`next_at`] the latest `at` before it.
pub fn activity_after_change(last_activity_at: Millis, now: Millis) -> Millis {
    next_at(now, last_activity_at)
}

/// The order of every list: latest activity first, then the larger id.
pub fn list_order(
    (a_at, a_id): (Millis, &ConversationId),
    (b_at, b_id): (Millis, &ConversationId),
) -> Ordering {
    b_at.cmp(&a_at).then_with(|| b_id.cmp(a_id))
}

/// Collapses whitespace and cuts to [`PREVIEW_CHARS`] characters, with an
/// ellipsis when something was cut.
pub fn preview(body: &str) -> String {
    let mut line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((cut, _)) = line.char_indices().nth(PREVIEW_CHARS) {
        line.truncate(cut);
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{self, NewConversation};
    use crate::ids::{AgentId, ChannelId};
    use crate::model::{Agent, By, Customer, Role};
    use crate::operations;
    use crate::workspace::Workspace;

    fn ana() -> (Workspace, AgentId) {
        let mut workspace = Workspace::default();
        let id = AgentId::random();
        workspace.agents.insert(
            id.clone(),
            Agent {
                id: id.clone(),
                name: "Ana".into(),
                email: "ana@acme.test".into(),
                role: Role::Agent,
                active: true,
                away: false,
                capacity: None,
            },
        );
        (workspace, id)
    }

    fn started(subject: &str, name: &str, body: &str, at: Millis) -> automerge::AutoCommit {
        let mut doc = conversation::create(&NewConversation {
            id: ConversationId::random(),
            channel: ChannelId::random(),
            subject: subject.into(),
            customer: Customer {
                id: "cus_1".into(),
                name: name.into(),
                email: "maya@example.com".into(),
            },
            at,
        })
        .unwrap();
        operations::customer_message(&mut doc, &Workspace::default(), body, at + 1).unwrap();
        doc
    }

    #[test]
    fn a_row_shows_the_last_customer_facing_message_on_one_line() {
        let doc = started("", "", "Where is\n\n my   refund?", 1_000);
        let row = RowSummary::of(&conversation::read(&doc).unwrap());
        assert_eq!(row.preview, "Where is my refund?");
        assert_eq!(row.subject, "(no subject)");
        assert_eq!(row.customer, "maya@example.com");
        assert!(row.awaiting_reply);
        assert_eq!(row.last_message_at, 1_001);
        assert_eq!(row.messages, 1);
    }

    #[test]
    fn long_previews_are_cut_on_a_character_boundary() {
        let line = preview(&"é".repeat(300));
        assert_eq!(line.chars().count(), PREVIEW_CHARS + 1);
        assert!(line.ends_with('…'));
        assert_eq!(preview("short"), "short");
    }

    #[test]
    fn a_reassign_moves_a_conversation_up_but_not_its_last_message() {
        let (workspace, ana) = ana();
        let mut older = started("Refund", "Maya", "Where is my refund?", 1_000);
        let newer = started("Login", "Leo", "I cannot sign in", 2_000);
        let by = By::Agent(ana.clone());
        operations::assign(&mut older, &workspace, &by, Some(&ana), None, 3_000).unwrap();
        let (older, newer) = (
            conversation::read(&older).unwrap(),
            conversation::read(&newer).unwrap(),
        );
        let (a, b) = (RowSummary::of(&older), RowSummary::of(&newer));
        assert_eq!(a.last_activity_at, 3_000);
        assert_eq!(a.last_message_at, 1_001, "the customer did not speak again");
        assert_eq!(
            list_order(
                (a.last_activity_at, &older.id),
                (b.last_activity_at, &newer.id)
            ),
            Ordering::Less,
            "the reassigned conversation lists first"
        );
    }

    #[test]
    fn a_local_change_moves_the_activity_as_the_operation_stamps_it() {
        let (workspace, ana) = ana();
        let mut doc = started("Refund", "Maya", "Where is my refund?", 1_000);
        let before = RowSummary::of(&conversation::read(&doc).unwrap()).last_activity_at;
        // A clock behind the document's latest `at` still moves it forward.
        for (to, now) in [(Some(&ana), 500), (None, 5_000)] {
            let expected = activity_after_change(
                RowSummary::of(&conversation::read(&doc).unwrap()).last_activity_at,
                now,
            );
            let by = By::Agent(ana.clone());
            operations::assign(&mut doc, &workspace, &by, to, None, now).unwrap();
            let after = RowSummary::of(&conversation::read(&doc).unwrap()).last_activity_at;
            assert_eq!(after, expected);
            assert!(after > before);
        }
    }

    #[test]
    fn ties_go_to_the_larger_id_as_the_server_lists_them() {
        let (low, high) = (
            ConversationId::from_bytes([1; 16]),
            ConversationId::from_bytes([2; 16]),
        );
        assert!(low < high);
        assert_eq!(list_order((5, &high), (5, &low)), Ordering::Less);
        assert_eq!(list_order((6, &low), (5, &high)), Ordering::Less);
    }
}
