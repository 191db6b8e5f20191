//! Notifications on the server: the notices `shared::notify` plans for a
//! change become stored rows (committed with the change), take their count
//! from the store once committed, and go out to their agents' connections
//! with the words the app shows.

use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::Conversation;
use baton_shared::notify::Notice;
use baton_shared::protocol;

use crate::store::{NotificationRow, Receipt};

/// Most notifications one request may mark read.
pub const MAX_READ_IDS: usize = 1_000;
/// Longest notification id a client may name (ours are 36 bytes).
const MAX_ID_BYTES: usize = 64;

/// The rows that store `notices` of a change to `conversation`.
pub fn rows(
    notices: Vec<Notice>,
    conversation: &Conversation,
    document: DocumentId,
) -> Vec<NotificationRow> {
    let at = conversation.latest_at();
    notices
        .into_iter()
        .map(|notice| NotificationRow {
            id: notification_id(&notice.agent, notice.batch.as_deref()),
            agent: notice.agent,
            conversation: conversation.id.clone(),
            document,
            kind: notice.kind,
            actor: Some(notice.actor),
            subject: conversation.subject.clone(),
            batch: notice.batch,
            count: 1,
            at,
            read: false,
        })
        .collect()
}

/// `rows` as committed: each with the count the store holds for it.
pub fn counted(mut rows: Vec<NotificationRow>, receipt: &Receipt) -> Vec<NotificationRow> {
    for row in &mut rows {
        if let Some((_, count)) = receipt.counts.iter().find(|(id, _)| *id == row.id) {
            row.count = *count;
        }
    }
    rows
}

/// A batch's notification for one agent has one id, so every change of the
/// batch lands on the same row (and the same entry in the app's list).
fn notification_id(agent: &AgentId, batch: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let bytes = match batch {
        Some(batch) => Sha256::digest(format!("{agent}/{batch}").as_bytes())[..16].to_vec(),
        None => baton_shared::ids::random_bytes().to_vec(),
    };
    format!("ntf_{}", hex::encode(bytes))
}

/// What the agent reads for a stored notification.
pub fn words(row: &NotificationRow) -> String {
    let actor = row.actor.as_deref().unwrap_or("Someone");
    row.kind.words(actor, &row.subject, row.count)
}

/// A stored notification as the socket sends it.
pub fn to_wire(row: &NotificationRow) -> protocol::Notification {
    protocol::Notification {
        id: row.id.clone(),
        agent: row.agent.clone(),
        conversation: row.conversation.clone(),
        document_id: row.document,
        kind: row.kind,
        text: words(row),
        batch: row.batch.clone(),
        count: row.count,
        at: row.at,
        read: row.read,
    }
}

/// Whether `ids` may be marked read in one go; the reason if not.
pub fn check_read_ids(ids: &[String]) -> Result<(), String> {
    if ids.len() > MAX_READ_IDS {
        return Err(format!("mark at most {MAX_READ_IDS} notifications at once"));
    }
    if ids.iter().any(|id| id.len() > MAX_ID_BYTES) {
        return Err(format!("a notification id is at most {MAX_ID_BYTES} bytes"));
    }
    Ok(())
}
