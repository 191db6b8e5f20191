//! One inbox row, derived from a conversation document: everything the list
//! shows without reading the document again.

use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId};
use baton_shared::model::{Author, Conversation, MessageKind, Millis, Status};

/// How much of the last message a row shows.
const PREVIEW_CHARS: usize = 140;

/// One inbox row. Kept in IndexedDB beside its document, so a reload draws
/// the inbox before reading any document.
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
    /// When the last message (or the conversation) happened.
    pub last_at: Millis,
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
        let last = conversation
            .messages
            .iter()
            .rev()
            .find(|m| m.kind == MessageKind::Message);
        let customer = &conversation.customer;
        Summary {
            doc,
            id: conversation.id.clone(),
            channel: conversation.channel.clone(),
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
            customer_email: customer.email.clone(),
            preview: last.map(|m| one_line(&m.body)).unwrap_or_default(),
            last_at: last.map_or(conversation.created_at, |m| m.at),
            awaiting_reply: last.is_some_and(|m| m.author == Author::Customer),
            status: conversation.status,
            assignee: conversation.assignee().cloned(),
            contested: conversation.assignments.len() > 1,
            version,
        }
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

/// Collapses whitespace and cuts to [`PREVIEW_CHARS`] characters.
fn one_line(body: &str) -> String {
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
    }

    #[test]
    fn long_previews_are_cut_on_a_character_boundary() {
        let line = one_line(&"é".repeat(300));
        assert_eq!(line.chars().count(), PREVIEW_CHARS + 1);
        assert!(line.ends_with('…'));
    }
}
