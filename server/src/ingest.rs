//! Customer messages arriving on a channel: a new conversation, or one more
//! message on an existing conversation of that channel (which reopens it if
//! it was resolved). The workflows the message fires run in the same change.
//! Answered only once durable.

use baton_shared::conversation::{self, NewConversation};
use baton_shared::ids::{ChannelId, ConversationId, DocumentId};
use baton_shared::limits::{MAX_FIELD_BYTES, MAX_MESSAGE_BYTES};
use baton_shared::model::Customer;
use baton_shared::operations::customer_message;
use serde::{Deserialize, Serialize};

use crate::hub::change::redo;
use crate::hub::{Committed, Hub, HubError};

/// A customer message as the ingest endpoint receives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incoming {
    pub customer: IncomingCustomer,
    #[serde(default)]
    pub subject: Option<String>,
    pub body: String,
    /// Append to this conversation instead of opening a new one.
    #[serde(default)]
    pub conversation: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncomingCustomer {
    pub email: String,
    pub name: String,
}

/// Where the message landed.
#[derive(Debug, Clone, Serialize)]
pub struct Landed {
    pub conversation: ConversationId,
    pub document: DocumentId,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Invalid(String),
    #[error("no conversation {0} on this channel")]
    UnknownConversation(String),
    #[error(transparent)]
    Hub(#[from] HubError),
}

fn check(incoming: &Incoming) -> Result<(), IngestError> {
    let invalid = |m: &str| Err(IngestError::Invalid(m.to_owned()));
    let email = incoming.customer.email.trim();
    if !email.contains('@') || email.len() > MAX_FIELD_BYTES {
        return invalid("customer.email must be an email address");
    }
    if incoming.customer.name.trim().is_empty() || incoming.customer.name.len() > MAX_FIELD_BYTES {
        return invalid("customer.name must be 1 to 512 bytes");
    }
    if incoming.body.trim().is_empty() {
        return invalid("body must not be empty");
    }
    if incoming.body.len() > MAX_MESSAGE_BYTES {
        return invalid("body is over 64 KiB");
    }
    if incoming
        .subject
        .as_ref()
        .is_some_and(|s| s.len() > MAX_FIELD_BYTES)
    {
        return invalid("subject is over 512 bytes");
    }
    Ok(())
}

/// A subject for a conversation that arrived without one: its first words.
fn subject_from(body: &str) -> String {
    let words: Vec<&str> = body.split_whitespace().take(8).collect();
    let mut subject = words.join(" ");
    if body.split_whitespace().count() > 8 {
        subject.push('…');
    }
    subject
}

/// Records a customer message on `channel`.
pub async fn receive(
    hub: &Hub,
    channel: &ChannelId,
    incoming: &Incoming,
) -> Result<(Landed, Committed), IngestError> {
    check(incoming)?;
    let now = baton_shared::clock::now();
    if let Some(given) = &incoming.conversation {
        let unknown = || IngestError::UnknownConversation(given.clone());
        let id: ConversationId = given.parse().map_err(|_| unknown())?;
        let row = hub
            .reads()
            .conversation(&id)
            .await
            .map_err(HubError::from)?;
        let row = row.filter(|r| &r.channel == channel).ok_or_else(unknown)?;
        // Decided again on fresh state if another node changed the
        // conversation (or took a round-robin turn) meanwhile.
        let (_, committed) = redo!(hub, {
            let workflows = hub.prepare_workflows(&[], now).await?;
            hub.change_conversation_with(row.document, |doc, workspace| {
                let before = conversation::read(doc)?;
                customer_message(doc, workspace, &incoming.body, now)?;
                workflows.apply(doc, workspace, Some(&before), row.document)
            })
            .await
        })?;
        return Ok((
            Landed {
                conversation: id,
                document: row.document,
            },
            committed,
        ));
    }
    let email = incoming.customer.email.trim().to_lowercase();
    let new = NewConversation {
        id: ConversationId::random(),
        channel: channel.clone(),
        subject: incoming
            .subject
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map_or_else(|| subject_from(&incoming.body), str::to_owned),
        customer: Customer {
            id: format!("cus_{email}"),
            name: incoming.customer.name.trim().to_owned(),
            email,
        },
        at: now,
    };
    let new = &new;
    let (document, _, committed) = redo!(hub, {
        let workflows = hub.prepare_workflows(&[], now).await?;
        hub.create_conversation_with(new, |doc, workspace, document| {
            customer_message(doc, workspace, &incoming.body, now)?;
            workflows.apply(doc, workspace, None, document)
        })
        .await
    })?;
    Ok((
        Landed {
            conversation: new.id.clone(),
            document,
        },
        committed,
    ))
}

#[cfg(test)]
mod tests {
    use super::subject_from;

    #[test]
    fn a_missing_subject_is_the_first_words() {
        assert_eq!(
            subject_from("My order  never\narrived"),
            "My order never arrived"
        );
        assert_eq!(
            subject_from("one two three four five six seven eight nine"),
            "one two three four five six seven eight…"
        );
    }
}
