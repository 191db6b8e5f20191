//! The storage interface. Callers see domain operations only; one
//! implementation ([`SqlStore`]) runs the same SQL on SQLite, the embedded
//! default, and on PostgreSQL, where several nodes share one database.
//!
//! Every write transaction takes the commit clock first (see
//! `migrations/postgres/0005_cluster.sql`), so commit sequences become
//! visible in order and without gaps on both engines; a document write
//! names the commit its copy was in step with, and fails as
//! [`StoreError::Stale`] if another writer got there first.

mod copy;
mod database;
mod engine;
#[cfg(debug_assertions)]
mod fault;
mod locks;
mod reads;
mod rows;
mod signals;
mod sql;
mod write;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId, WorkflowId};
use baton_shared::model::Millis;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::broadcast::Broadcast;
pub use copy::{Copied, copy_store};
pub use database::SqlStore;
pub use engine::Engine;
pub use locks::{StoreLock, Wait};
pub use rows::{
    AgentRow, ApiTokenRow, ChannelRow, ConversationRow, NotificationRow, ReplyRow, WorkflowRunRow,
};
pub use write::{Receipt, Write};

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    /// Another writer changed what this write was based on (a document
    /// committed since the copy was read, a round-robin turn moved): read
    /// again and redo.
    #[error("changed meanwhile: {0}")]
    Stale(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the storage writer has stopped")]
    Closed,
    /// The store named cannot be opened (a bad URL, a directory that
    /// cannot be made, a schema newer than this Baton); the message says
    /// what to change.
    #[error("{0}")]
    Open(String),
}

impl From<sqlx::Error> for StoreError {
    /// A column that does not decode into its type (an id that does not
    /// parse, a negative sequence) is corrupt data, not a failing database.
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::ColumnDecode { index, source } => {
                StoreError::Corrupt(format!("{index}: {source}"))
            }
            err => StoreError::Database(err),
        }
    }
}

impl StoreError {
    /// Whether the database could not be reached or was going away (a
    /// restart, a lost connection): nothing was changed, and trying again
    /// shortly should work.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Closed => true,
            StoreError::Database(err) => match err {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // PostgreSQL shutting down, restarting, or refusing connections.
                sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                    code.starts_with("57P") || code.starts_with("08") || code == "53300"
                }),
                _ => false,
            },
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How often an open connection's `seen` is refreshed; a connection not
/// seen for longer than a few of these belongs to a process that died.
pub const ONLINE_TOUCH_MS: Millis = 30_000;

/// Which kind of document a stored document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Workspace,
    Conversation,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Workspace => "workspace",
            DocumentKind::Conversation => "conversation",
        }
    }
}

/// A document as stored: the snapshot plus the incremental chunks after it.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    pub kind: DocumentKind,
    pub snapshot: Option<Vec<u8>>,
    pub chunks: Vec<Vec<u8>>,
    pub last_seq: u64,
}

/// Documents committed after a position, read in one snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// The position this answer brings a reader to: every commit at or
    /// below it is covered, and no commit at or below it can appear later.
    pub seq: u64,
    /// Each document's latest commit and heads (hex), oldest commit first.
    pub documents: Vec<(DocumentId, u64, Vec<String>)>,
    /// The page was full: ask again from `seq`.
    pub more: bool,
}

/// One document's stored bytes (its snapshot, then the chunks after it), with
/// the heads they load at (hex), read in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedBytes {
    pub id: DocumentId,
    pub heads: Vec<String>,
    pub data: Vec<u8>,
}

/// What [`Reads::saved`] read: the documents of `ids[..read]` that exist,
/// in the order asked; those of `ids[read..]` are left for the next read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub documents: Vec<SavedBytes>,
    pub read: usize,
}

/// One row of the outbox: what a process told every other's sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Told {
    pub seq: u64,
    /// The process that committed it (see [`Store::node`]).
    pub node: String,
    pub broadcast: Broadcast,
}

/// Which conversations a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Unassigned,
    Mine,
    All,
}

/// A page request of the conversation list.
#[derive(Debug, Clone)]
pub struct ConversationQuery {
    pub view: View,
    pub agent: AgentId,
    pub channel: Option<ChannelId>,
    pub status: String,
    pub search: Option<String>,
    pub limit: u32,
    /// Continue after this (last_activity_at, id).
    pub after: Option<(Millis, ConversationId)>,
}

/// Live counts for the inbox's views (open conversations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub unassigned: u64,
    pub mine: u64,
    pub all: u64,
}

/// Everything Baton keeps durably: what it reads ([`Reads`]), the one way
/// it writes, and how processes sharing the store hear of each other.
#[async_trait]
pub trait Store: Reads + 'static {
    /// Commits `writes` atomically, grouped with concurrent requests into one
    /// transaction and one fsync; returns once durable.
    async fn commit(&self, writes: Vec<Write>) -> Result<Receipt>;

    /// This process's name in the outbox, unique per open store.
    fn node(&self) -> &str;

    /// `sqlite` or `postgres`.
    fn engine_name(&self) -> &'static str;

    /// Changes whenever another process may have committed (PostgreSQL's
    /// NOTIFY, or a poll of the commit clock); a hint to read
    /// [`Reads::catch_up`], never the news itself.
    fn hints(&self) -> watch::Receiver<u64>;

    /// Sends a presence message to the other nodes (PostgreSQL only:
    /// presence is never stored, and SQLite has no channel for it).
    async fn send_presence(&self, payload: &str) -> Result<()>;

    /// Presence messages sent by any node, this one's included.
    fn presence(&self) -> broadcast::Receiver<String>;

    /// Takes the lock `name`, shared by every process on this store (an
    /// advisory lock on PostgreSQL, a file lock beside SQLite's database),
    /// waiting for it or not; `None` when another process holds it.
    async fn lock(&self, name: &str, wait: Wait) -> Result<Option<StoreLock>>;
}

/// What Baton reads from its store.
#[async_trait]
pub trait Reads: Send + Sync {
    async fn meta(&self, key: &str) -> Result<Option<String>>;
    /// The document with its snapshot and chunks, read in one snapshot.
    async fn document(&self, id: &DocumentId) -> Result<Option<StoredDocument>>;
    /// The sequence of the document's latest commit, if it exists.
    async fn document_seq(&self, id: &DocumentId) -> Result<Option<u64>>;
    /// Chunks committed after `seq`, in order, with their sequence.
    async fn chunks_after(&self, id: &DocumentId, seq: u64) -> Result<Vec<(u64, Vec<u8>)>>;
    /// The commit clock: every commit at or below it is visible, and none
    /// at or below it can appear later.
    async fn clock(&self) -> Result<u64>;
    /// Documents committed after `seq`, at most `limit` of them.
    async fn catch_up(&self, seq: u64, limit: u32) -> Result<CatchUp>;
    /// The stored bytes of a leading run of `ids` whose bytes add up to at
    /// most `budget` (always at least the first), read in one snapshot
    /// without loading them.
    async fn saved(&self, ids: &[DocumentId], budget: usize) -> Result<Saved>;
    /// What was told after `after` up to `upto`, in commit order.
    async fn told(&self, after: u64, upto: u64) -> Result<Vec<Told>>;
    async fn agent_by_email(&self, email: &str) -> Result<Option<AgentRow>>;
    async fn agent(&self, id: &AgentId) -> Result<Option<AgentRow>>;
    async fn agents(&self) -> Result<Vec<AgentRow>>;
    async fn channel(&self, id: &ChannelId) -> Result<Option<ChannelRow>>;
    async fn channels(&self) -> Result<Vec<ChannelRow>>;

    /// The agent whose unexpired session has this token hash, and when the
    /// session expires.
    async fn session_agent(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<(AgentId, Millis)>>;
    /// The agent whose unrevoked, unexpired API token has this hash.
    async fn api_token_agent(&self, token_hash: &str, now: Millis) -> Result<Option<AgentId>>;
    /// Every API token of `agent`, newest first.
    async fn api_tokens(&self, agent: &AgentId) -> Result<Vec<ApiTokenRow>>;
    /// When `agent` was connected since `since` (open connections last
    /// seen before `stale` count as ended shortly after that), and when
    /// they first connected at all.
    async fn online_history(
        &self,
        agent: &AgentId,
        since: Millis,
        stale: Millis,
    ) -> Result<baton_shared::validate::OnlineHistory>;

    async fn conversation(&self, id: &ConversationId) -> Result<Option<ConversationRow>>;
    async fn conversations(&self, query: &ConversationQuery) -> Result<Vec<ConversationRow>>;
    /// Open conversations assigned to `agent`.
    async fn open_conversations_of(&self, agent: &AgentId) -> Result<Vec<ConversationRow>>;
    async fn counts(&self, agent: &AgentId, channel: Option<&ChannelId>) -> Result<Counts>;

    async fn notifications(&self, agent: &AgentId, limit: u32) -> Result<Vec<NotificationRow>>;
    async fn unread_notifications(&self, agent: &AgentId) -> Result<u64>;
    async fn replies_after(
        &self,
        channel: &ChannelId,
        seq: u64,
        limit: u32,
    ) -> Result<Vec<ReplyRow>>;
    async fn actor_principal(&self, actor: &str) -> Result<Option<String>>;

    /// The latest workflow runs, newest first.
    async fn workflow_runs(&self, limit: u32) -> Result<Vec<WorkflowRunRow>>;
    /// Which of `keys` have a run already.
    async fn done_runs(&self, keys: &[String]) -> Result<Vec<String>>;
    /// The agent each round-robin workflow picked last.
    async fn workflow_cursors(&self) -> Result<Vec<(WorkflowId, AgentId)>>;
    /// Open conversations per agent (agents holding none are left out).
    async fn open_counts(&self) -> Result<Vec<(AgentId, u32)>>;
    /// Open conversations unassigned since `cutoff` or earlier, longest
    /// first, continuing after `after` (unassigned_since, id).
    async fn unassigned_since(
        &self,
        cutoff: Millis,
        after: Option<(Millis, ConversationId)>,
        limit: u32,
    ) -> Result<Vec<ConversationRow>>;
}

/// Opens the store named by `database_url` (`sqlite:…` or `postgres://…`),
/// or SQLite in `data` by default.
pub async fn open(database_url: Option<&str>, data: &std::path::Path) -> Result<Arc<dyn Store>> {
    let engine = match database_url {
        None => Engine::sqlite_in(data)?,
        Some(url) => Engine::from_url(url)?,
    };
    Ok(Arc::new(SqlStore::open(engine).await?))
}
