//! One inbox row, derived from a conversation document by
//! `shared::summary` (as the server's projection derives its rows):
//! everything the list shows without reading the document again.

use std::cmp::Ordering;

use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId};
use baton_shared::model::{Conversation, Millis, Status};
use baton_shared::summary::{self, RowSummary};

/// One inbox row. Kept in IndexedDB beside its document, so a reload draws
/// the inbox before reading any document (a row saved by an older app
/// without a field here no longer parses, and is read from its document).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// The row's key in IndexedDB; not repeated in the saved value.
    #[serde(skip, default = "DocumentId::random")]
    pub doc: DocumentId,
    pub id: ConversationId,
    pub channel: ChannelId,
    pub subject: String,
    pub customer: String,
    pub customer_email: String,
    /// The last message to or from the customer (notes excluded), on one line.
    pub preview: String,
    /// When the last message (or the conversation) happened: the row's age,
    /// and what "unread" compares with.
    pub last_message_at: Millis,
    /// When anything last happened to it (the list's order).
    pub last_activity_at: Millis,
    /// Whether the customer spoke last, so the agents owe an answer.
    pub awaiting_reply: bool,
    pub status: Status,
    pub assignee: Option<AgentId>,
    /// Concurrent assignments the server has not settled yet.
    pub contested: bool,
    /// Bumped on every change, so views keyed on it re-render.
    #[serde(skip)]
    pub version: u64,
}

impl Summary {
    pub fn of(doc: DocumentId, conversation: &Conversation, version: u64) -> Summary {
        let row = RowSummary::of(conversation);
        Summary {
            doc,
            id: conversation.id.clone(),
            channel: conversation.channel.clone(),
            subject: row.subject,
            customer: row.customer,
            customer_email: conversation.customer.email.clone(),
            preview: row.preview,
            last_message_at: row.last_message_at,
            last_activity_at: row.last_activity_at,
            awaiting_reply: row.awaiting_reply,
            status: conversation.status,
            assignee: conversation.assignee().cloned(),
            contested: conversation.assignments.len() > 1,
            version,
        }
    }

    /// This replica changed the conversation at `now` (a bulk action patches
    /// rows rather than read every document again): it moves up as the
    /// operation's timestamp moved it.
    pub fn changed_at(&mut self, now: Millis) {
        self.last_activity_at = summary::activity_after_change(self.last_activity_at, now);
    }

    /// The list's order, the server's: latest activity first.
    pub fn list_order(&self, other: &Summary) -> Ordering {
        summary::list_order(
            (self.last_activity_at, &self.id),
            (other.last_activity_at, &other.id),
        )
    }

    /// The row as IndexedDB keeps it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A row [`Summary::to_json`] saved for `doc`; `None` if it no longer
    /// parses (an older app's format: the document is read instead).
    pub fn from_json(doc: DocumentId, json: &str, version: u64) -> Option<Summary> {
        let mut row: Summary = serde_json::from_str(json).ok()?;
        row.doc = doc;
        row.version = version;
        Some(row)
    }

    /// Whether a search query matches the subject, customer or preview.
    pub fn matches(&self, query: &str) -> bool {
        let query = query.trim().to_lowercase();
        query.is_empty()
            || [
                &self.subject,
                &self.customer,
                &self.customer_email,
                &self.preview,
            ]
            .iter()
            .any(|field| field.to_lowercase().contains(&query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures;

    #[test]
    fn a_row_shows_the_last_customer_facing_message_on_one_line() {
        let (doc, conversation) = fixtures::conversation("Refund", "Where is\n\n my   refund?");
        let summary = Summary::of(doc, &conversation, 1);
        assert_eq!(summary.preview, "Where is my refund?");
        assert!(summary.awaiting_reply);
        assert_eq!(summary.assignee, None);
        assert_eq!(summary.subject, "Refund");
        assert!(summary.matches("REFUND"));
        assert!(summary.matches("my refund"));
        assert!(!summary.matches("invoice"));
    }

    #[test]
    fn a_saved_row_comes_back_as_it_was_under_its_document() {
        let (doc, conversation) = fixtures::conversation("Refund", "Where is my refund?");
        let row = Summary::of(doc, &conversation, 7);
        let back = Summary::from_json(doc, &row.to_json(), 7).expect("parses");
        assert_eq!(back, row);
        assert!(Summary::from_json(doc, "{\"subject\": 1}", 1).is_none());
        // A row kept before rows had their last activity is read again.
        let mut older: serde_json::Value = serde_json::from_str(&row.to_json()).unwrap();
        older.as_object_mut().unwrap().remove("last_activity_at");
        assert!(Summary::from_json(doc, &older.to_string(), 1).is_none());
    }
}
