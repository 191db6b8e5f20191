//! The storage interface. Callers see domain operations only, so a
//! PostgreSQL backend can implement [`Store`] later without touching them.
//! SQLite (`store::sqlite`) is the embedded default.

#[cfg(debug_assertions)]
mod fault;
mod sqlite;
mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId, WorkflowId};
use baton_shared::model::{Millis, Role, Status};
use baton_shared::notify::NoticeKind;
use serde::Serialize;
use sqlx::FromRow;

pub use sqlite::SqliteStore;

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the storage writer has stopped")]
    Closed,
    /// The store named cannot be opened (a bad URL, a directory that
    /// cannot be made); the message says what to change.
    #[error("{0}")]
    Open(String),
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

/// One conversation in the projection that lists, counts and search read.
/// (Mapped by hand: sqlx converts no optional id.)
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
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AgentRow {
    #[sqlx(try_from = "String")]
    pub id: AgentId,
    pub email: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub active: bool,
    pub password_hash: String,
}

/// A channel and the hash of its ingest secret.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ChannelRow {
    #[sqlx(try_from = "String")]
    pub id: ChannelId,
    pub name: String,
    pub secret_hash: String,
}

/// A stored notification for one agent.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct NotificationRow {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub agent: AgentId,
    #[sqlx(try_from = "String")]
    pub conversation: ConversationId,
    #[sqlx(try_from = "String")]
    pub document: DocumentId,
    /// What the agent is told.
    #[sqlx(try_from = "String")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct ReplyRow {
    #[sqlx(try_from = "i64")]
    pub seq: u64,
    pub message: String,
    #[sqlx(try_from = "String")]
    pub channel: ChannelId,
    #[sqlx(try_from = "String")]
    pub conversation: ConversationId,
    #[sqlx(try_from = "String")]
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
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct WorkflowRunRow {
    /// `{workflow}/{event key}`; a second insert of the same key fails the
    /// whole request it is in.
    pub key: String,
    #[sqlx(try_from = "String")]
    pub workflow: WorkflowId,
    pub workflow_name: String,
    #[sqlx(try_from = "String")]
    pub conversation: ConversationId,
    #[sqlx(try_from = "String")]
    pub document: DocumentId,
    pub event: String,
    /// `ran`, `no_change` or `skipped`.
    pub outcome: String,
    /// `baton_shared::workflow::Run` as JSON.
    pub run: String,
    pub at: Millis,
}

/// One write; a request's writes commit together or not at all.
#[derive(Debug, Clone)]
pub enum Write {
    /// New changes to a document (`chunk`), or a compacted `snapshot` that
    /// replaces the stored snapshot and every chunk. Gets a commit sequence.
    Document {
        id: DocumentId,
        kind: DocumentKind,
        chunk: Vec<u8>,
        snapshot: Option<Vec<u8>>,
        /// The document's heads after this write (hex), for catch-up.
        heads: Vec<String>,
        /// The stored commit the writer's copy was last in step with; `None`
        /// for a new document. If another process committed since, the
        /// receipt says so and a snapshot is kept as a chunk instead of
        /// replacing chunks the writer never saw.
        after: Option<u64>,
    },
    Conversation(ConversationRow),
    Notification(NotificationRow),
    /// Uses the sequence of the request's latest `Document` write.
    Reply(ReplyRow),
    Meta {
        key: String,
        value: String,
    },
    Agent(AgentRow),
    SetAgentActive {
        id: AgentId,
        active: bool,
    },
    /// An admin renamed an agent or changed their role.
    UpdateAgent {
        id: AgentId,
        name: String,
        role: Role,
    },
    Channel(ChannelRow),
    Session {
        token_hash: String,
        agent: AgentId,
        created_at: Millis,
        expires_at: Millis,
    },
    DeleteSession {
        token_hash: String,
    },
    DeleteSessionsOf {
        agent: AgentId,
    },
    ApiToken {
        token_hash: String,
        agent: AgentId,
        created_at: Millis,
        /// `None` for a token that never expires.
        expires_at: Option<Millis>,
    },
    RevokeApiTokensOf {
        agent: AgentId,
    },
    /// Revokes the one token whose id ([`ApiTokenRow::id`]) this is.
    RevokeApiToken {
        id: String,
    },
    /// A connection of `agent` opened (`id` names it).
    OnlineStarted {
        id: String,
        agent: AgentId,
        at: Millis,
    },
    /// These open connections were alive at `at`.
    OnlineSeen {
        ids: Vec<String>,
        at: Millis,
    },
    OnlineEnded {
        id: String,
        at: Millis,
    },
    /// Connections of a process that died without closing them: they
    /// ended at most `grace` after they were last seen.
    CloseStaleOnline {
        seen_before: Millis,
        grace: Millis,
    },
    /// Forgets connections that ended before `ended_before`.
    PruneOnline {
        ended_before: Millis,
    },
    MarkNotificationsRead {
        agent: AgentId,
        ids: Vec<String>,
    },
    BindActor {
        actor: String,
        principal: String,
    },
    /// Fails the request with [`StoreError::Conflict`] if the key exists.
    WorkflowRun(WorkflowRunRow),
    /// Corrects when a conversation became unassigned (the projection of a
    /// conversation stored before that was kept).
    UnassignedSince {
        conversation: ConversationId,
        since: Option<Millis>,
    },
    /// The agent a round-robin workflow picked last.
    WorkflowCursor {
        workflow: WorkflowId,
        agent: AgentId,
    },
}

/// What a committed request produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// Each `Notification` write's id and the count stored for it (a
    /// batch's row counts every conversation of the batch so far).
    pub counts: Vec<(String, u32)>,
    /// The commit sequence of each `Document` write, in order.
    pub seqs: Vec<u64>,
    /// The sequences (of `seqs`) whose document had a commit from elsewhere
    /// after the one the write was `after`.
    pub overtaken: Vec<u64>,
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

/// Everything Baton keeps durably: what it reads ([`Reads`]) and the one
/// way it writes.
#[async_trait]
pub trait Store: Reads + 'static {
    /// Commits `writes` atomically, grouped with concurrent requests into one
    /// transaction and one fsync; returns once durable.
    async fn commit(&self, writes: Vec<Write>) -> Result<Receipt>;
}

/// What Baton reads from its store.
#[async_trait]
pub trait Reads: Send + Sync {
    async fn meta(&self, key: &str) -> Result<Option<String>>;
    async fn document(&self, id: &DocumentId) -> Result<Option<StoredDocument>>;
    /// The sequence of the document's latest commit, if it exists.
    async fn document_seq(&self, id: &DocumentId) -> Result<Option<u64>>;
    /// Chunks committed after `seq`, in order, with their sequence.
    async fn chunks_after(&self, id: &DocumentId, seq: u64) -> Result<Vec<(u64, Vec<u8>)>>;
    /// Documents committed after `seq`, oldest commit first, at most
    /// `limit` of them, with their latest sequence and heads.
    async fn documents_since(
        &self,
        seq: u64,
        limit: u32,
    ) -> Result<Vec<(DocumentId, u64, Vec<String>)>>;
    /// The highest commit sequence so far.
    async fn latest_seq(&self) -> Result<u64>;

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

/// Opens the store named by `database_url`, or SQLite in `data` by default.
pub async fn open(database_url: Option<&str>, data: &std::path::Path) -> Result<Arc<dyn Store>> {
    match database_url {
        None => Ok(Arc::new(SqliteStore::open_dir(data).await?)),
        Some(url) if url.starts_with("sqlite:") => Ok(Arc::new(SqliteStore::open_url(url).await?)),
        Some(url) => {
            let scheme = url.split(':').next().unwrap_or(url);
            Err(StoreError::Open(format!(
                "--database-url: {scheme:?} databases are not supported yet; \
                 use a sqlite: URL (e.g. sqlite:///var/lib/baton/baton.db) or leave it out \
                 to use --data"
            )))
        }
    }
}
