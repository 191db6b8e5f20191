//! The rows Baton reads besides documents, and how each is read from
//! either engine: columns are decoded by name, flags accept PostgreSQL's
//! booleans and SQLite's integers, and ids are parsed (a row that does not
//! parse is reported as corrupt, never half-read).

use std::str::FromStr;

use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId, WorkflowId};
use baton_shared::model::{Millis, Role, Status};
use baton_shared::notify::NoticeKind;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Result, StoreError};

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

/// The columns [`conversation`] reads.
pub(super) const CONVERSATION_COLUMNS: &str = "id, document, channel, subject, customer_name, \
    customer_email, status, assignee, created_at, last_activity_at, preview, messages, \
    unassigned_since";

pub(super) fn conversation(row: &AnyRow) -> Result<ConversationRow> {
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

pub(super) fn agent(row: &AnyRow) -> Result<AgentRow> {
    Ok(AgentRow {
        id: parse(row, "id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        role: parse(row, "role")?,
        active: flag(row, "active")?,
        password_hash: row.try_get("password_hash")?,
    })
}

pub(super) fn channel(row: &AnyRow) -> Result<ChannelRow> {
    Ok(ChannelRow {
        id: parse(row, "id")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
    })
}

pub(super) fn notification(row: &AnyRow) -> Result<NotificationRow> {
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

pub(super) fn reply(row: &AnyRow) -> Result<ReplyRow> {
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

pub(super) fn api_token(row: &AnyRow) -> Result<ApiTokenRow> {
    Ok(ApiTokenRow {
        id: row.try_get("id")?,
        agent: parse(row, "agent")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked: flag(row, "revoked")?,
    })
}

pub(super) fn workflow_run(row: &AnyRow) -> Result<WorkflowRunRow> {
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

/// A text column parsed into `T`.
pub(super) fn parse<T: FromStr>(row: &AnyRow, column: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(format!("{column} {text:?}: {e}")))
}

fn opt_parse<T: FromStr>(row: &AnyRow, column: &str) -> Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| {
        text.parse()
            .map_err(|e: T::Err| StoreError::Corrupt(format!("{column} {text:?}: {e}")))
    })
    .transpose()
}

/// A yes/no column: PostgreSQL's BOOLEAN or SQLite's 0/1.
pub(super) fn flag(row: &AnyRow, column: &str) -> Result<bool> {
    match row.try_get::<bool, _>(column) {
        Ok(flag) => Ok(flag),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// A commit sequence (never negative).
pub(super) fn seq(row: &AnyRow, column: &str) -> Result<u64> {
    let value: i64 = row.try_get(column)?;
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{column} {value}")))
}

/// A count that fits 32 bits (larger ones read as the largest).
pub(super) fn count(row: &AnyRow, column: &str) -> Result<u32> {
    let value: i64 = row.try_get(column)?;
    Ok(u32::try_from(value.max(0)).unwrap_or(u32::MAX))
}
