//! The rows Baton reads besides documents, and how each is read from
//! either engine (a `sqlx::FromRow` each): columns are decoded by name, flags accept PostgreSQL's
//! booleans and SQLite's integers, and ids are parsed (a row that does not
//! parse is reported as corrupt, never half-read).

use std::str::FromStr;

use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId, WorkflowId};
use baton_shared::model::{Millis, Role, Status};
use baton_shared::notify::NoticeKind;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use super::Result;

/// One conversation in the projection that lists, counts and search read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationRow {
    pub id: ConversationId,
    pub document: DocumentId,
    pub channel: ChannelId,
    pub subject: String,
    pub customer_name: String,
    pub customer_email: String,
    pub status: Status,
    pub assignee: Option<AgentId>,
    pub created_at: Millis,
    pub last_activity_at: Millis,
    pub preview: String,
    pub messages: u32,
    /// Since when an open conversation has had no assignee; `None` otherwise.
    pub unassigned_since: Option<Millis>,
}

/// An agent as authentication sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub id: AgentId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
}

/// A channel and the hash of its ingest secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelRow {
    pub id: ChannelId,
    pub name: String,
    pub secret_hash: String,
}

/// A stored notification for one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    pub id: String,
    pub agent: AgentId,
    pub conversation: ConversationId,
    pub document: DocumentId,
    /// What the agent is told.
    pub kind: NoticeKind,
    /// Who caused it (a name to show), if a person or workflow did.
    pub actor: Option<String>,
    pub subject: String,
    /// Rows of one batch for one agent merge into one, counting conversations.
    pub batch: Option<String>,
    pub count: u32,
    pub at: Millis,
    pub read: bool,
}

/// An agent's reply, for delivery to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyRow {
    pub seq: u64,
    pub message: String,
    pub channel: ChannelId,
    pub conversation: ConversationId,
    pub author: AgentId,
    pub body: String,
    pub at: Millis,
    pub customer_email: String,
}

/// An API token as its owner sees it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiTokenRow {
    /// The first 16 hex digits of the token's hash: enough to name it.
    pub id: String,
    pub agent: AgentId,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked: bool,
}

/// One workflow run, for the run log and for exactly-once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRunRow {
    /// `{workflow}/{event key}`; a second insert of the same key fails the
    /// whole request it is in.
    pub key: String,
    pub workflow: WorkflowId,
    pub workflow_name: String,
    pub conversation: ConversationId,
    pub document: DocumentId,
    pub event: String,
    /// `ran`, `no_change` or `skipped`.
    pub outcome: String,
    /// `baton_shared::workflow::Run` as JSON.
    pub run: String,
    pub at: Millis,
}

/// The columns [`ConversationRow`] is read from.
pub(super) const CONVERSATION_COLUMNS: &str = "id, document, channel, subject, customer_name, \
    customer_email, status, assignee, created_at, last_activity_at, preview, messages, \
    unassigned_since";

impl<'r> FromRow<'r, AnyRow> for ConversationRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(ConversationRow {
            id: parse(row, "id")?,
            document: parse(row, "document")?,
            channel: parse(row, "channel")?,
            subject: row.try_get("subject")?,
            customer_name: row.try_get("customer_name")?,
            customer_email: row.try_get("customer_email")?,
            status: parse(row, "status")?,
            assignee: opt_parse(row, "assignee")?,
            created_at: row.try_get("created_at")?,
            last_activity_at: row.try_get("last_activity_at")?,
            preview: row.try_get("preview")?,
            messages: count(row, "messages")?,
            unassigned_since: row.try_get("unassigned_since")?,
        })
    }
}

impl<'r> FromRow<'r, AnyRow> for AgentRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(AgentRow {
            id: parse(row, "id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            role: parse(row, "role")?,
            active: flag(row, "active")?,
            password_hash: row.try_get("password_hash")?,
        })
    }
}

impl<'r> FromRow<'r, AnyRow> for ChannelRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(ChannelRow {
            id: parse(row, "id")?,
            name: row.try_get("name")?,
            secret_hash: row.try_get("secret_hash")?,
        })
    }
}

impl<'r> FromRow<'r, AnyRow> for NotificationRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(NotificationRow {
            id: row.try_get("id")?,
            agent: parse(row, "agent")?,
            conversation: parse(row, "conversation")?,
            document: parse(row, "document")?,
            kind: parse(row, "kind")?,
            actor: row.try_get("actor")?,
            subject: row.try_get("subject")?,
            batch: row.try_get("batch")?,
            count: count(row, "count")?,
            at: row.try_get("at")?,
            read: flag(row, "read")?,
        })
    }
}

impl<'r> FromRow<'r, AnyRow> for ReplyRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(ReplyRow {
            seq: seq(row, "seq")?,
            message: row.try_get("message")?,
            channel: parse(row, "channel")?,
            conversation: parse(row, "conversation")?,
            author: parse(row, "author")?,
            body: row.try_get("body")?,
            at: row.try_get("at")?,
            customer_email: row.try_get("customer_email")?,
        })
    }
}

impl<'r> FromRow<'r, AnyRow> for ApiTokenRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(ApiTokenRow {
            id: row.try_get("id")?,
            agent: parse(row, "agent")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked: flag(row, "revoked")?,
        })
    }
}

impl<'r> FromRow<'r, AnyRow> for WorkflowRunRow {
    fn from_row(row: &'r AnyRow) -> sqlx::Result<Self> {
        Ok(WorkflowRunRow {
            key: row.try_get("key")?,
            workflow: parse(row, "workflow")?,
            workflow_name: row.try_get("workflow_name")?,
            conversation: parse(row, "conversation")?,
            document: parse(row, "document")?,
            event: row.try_get("event")?,
            outcome: row.try_get("outcome")?,
            run: row.try_get("run")?,
            at: row.try_get("at")?,
        })
    }
}

/// A text column parsed into `T`.
pub(super) fn parse<T: FromStr>(row: &AnyRow, column: &str) -> sqlx::Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e: T::Err| corrupt(column, format!("{text:?}: {e}")))
}

fn opt_parse<T: FromStr>(row: &AnyRow, column: &str) -> sqlx::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| {
        text.parse()
            .map_err(|e: T::Err| corrupt(column, format!("{text:?}: {e}")))
    })
    .transpose()
}

/// A yes/no column: PostgreSQL's BOOLEAN or SQLite's 0/1.
pub(super) fn flag(row: &AnyRow, column: &str) -> sqlx::Result<bool> {
    match row.try_get::<bool, _>(column) {
        Ok(flag) => Ok(flag),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// A commit sequence (never negative).
pub(super) fn seq(row: &AnyRow, column: &str) -> sqlx::Result<u64> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value).map_err(|_| corrupt(column, format!("{value} is negative")))
}

/// A count that fits 32 bits (larger ones read as the largest).
pub(super) fn count(row: &AnyRow, column: &str) -> sqlx::Result<u32> {
    let value: i64 = row.try_get(column)?;
    Ok(u32::try_from(value.max(0)).unwrap_or(u32::MAX))
}

/// A value in `column` that its type cannot hold (reported as corrupt).
fn corrupt(column: &str, what: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: what.into(),
    }
}

/// A row read as `T` by its [`FromRow`]; a column that does not decode is
/// [`StoreError::Corrupt`](super::StoreError::Corrupt).
pub(super) fn read<T: for<'r> FromRow<'r, AnyRow>>(row: &AnyRow) -> Result<T> {
    Ok(T::from_row(row)?)
}

#[cfg(test)]
mod tests {
    use crate::store::{Reads, SqlStore, StoreError};

    #[tokio::test]
    async fn a_row_that_does_not_parse_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqlStore::open_dir(dir.path()).await.unwrap();
        sqlx::query(
            "INSERT INTO agents (id, email, name, role, active, password_hash, created_at) \
             VALUES ('not an id', 'x@acme.test', 'X', 'agent', 1, 'h', 0)",
        )
        .execute(&store.read)
        .await
        .unwrap();
        match store.agents().await {
            Err(StoreError::Corrupt(why)) => assert!(why.starts_with("id:"), "{why}"),
            other => panic!("expected a corrupt row, got {other:?}"),
        }
    }
}
