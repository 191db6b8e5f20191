//! The SQLite store: WAL, `synchronous=FULL`, one writer task (group commit)
//! and a small pool of readers.

mod workflows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId, WorkflowId};
use baton_shared::model::Millis;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, QueryBuilder, Row, Sqlite};
use tokio::sync::{mpsc, oneshot};

use super::writer::{self, Request};
use super::{
    AgentRow, ApiTokenRow, ChannelRow, ConversationQuery, ConversationRow, Counts, DocumentKind,
    NotificationRow, ONLINE_TOUCH_MS, Reads, Receipt, ReplyRow, Result, Store, StoreError,
    StoredDocument, View, WorkflowRunRow, Write,
};
use baton_shared::validate::{OnlineHistory, Span};

/// Baton's embedded store.
pub struct SqliteStore {
    pub(super) read: SqlitePool,
    writer: mpsc::Sender<Request>,
}

impl SqliteStore {
    /// Opens (creating if needed) `baton.db` in the data directory.
    pub async fn open_dir(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Open(format!(
                "cannot create the data directory {}: {e}",
                dir.display()
            ))
        })?;
        let options = SqliteConnectOptions::new().filename(dir.join("baton.db"));
        Self::open(options).await
    }

    /// Opens a `sqlite:` URL.
    pub async fn open_url(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url).map_err(|e| {
            StoreError::Open(format!(
                "--database-url {url:?} is not a valid sqlite: URL: {e}"
            ))
        })?;
        Self::open(options).await
    }

    async fn open(options: SqliteConnectOptions) -> Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .log_statements(tracing::log::LevelFilter::Trace);
        let mut write = options.connect().await?;
        sqlx::migrate!("./migrations").run(&mut write).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(SqliteStore {
            read,
            writer: writer::spawn(write),
        })
    }
}

pub(super) fn parse<T: FromStr>(row: &SqliteRow, column: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e: T::Err| StoreError::Corrupt(format!("{column} {text:?}: {e}")))
}

fn opt_parse<T: FromStr>(row: &SqliteRow, column: &str) -> Result<Option<T>>
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

fn seq(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// A sequence from a client, as SQLite's integer: past the largest, it
/// means "after everything".
fn clamp(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

pub(super) fn conversation_row(row: &SqliteRow) -> Result<ConversationRow> {
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
        messages: row.try_get("messages")?,
        unassigned_since: row.try_get("unassigned_since")?,
    })
}

pub(super) const CONVERSATION_COLUMNS: &str = "id, document, channel, subject, customer_name, \
    customer_email, status, assignee, created_at, last_activity_at, preview, messages, \
    unassigned_since";

#[async_trait]
impl Store for SqliteStore {
    async fn commit(&self, writes: Vec<Write>) -> Result<Receipt> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Request { writes, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

#[async_trait]
impl Reads for SqliteStore {
    async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.read)
            .await?)
    }

    async fn document(&self, id: &DocumentId) -> Result<Option<StoredDocument>> {
        let id = id.to_string();
        let Some(row) = sqlx::query("SELECT kind, snapshot, last_seq FROM documents WHERE id = ?")
            .bind(&id)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let kind = match row.try_get::<String, _>("kind")?.as_str() {
            "workspace" => DocumentKind::Workspace,
            "conversation" => DocumentKind::Conversation,
            other => return Err(StoreError::Corrupt(format!("document kind {other:?}"))),
        };
        let chunks: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT data FROM chunks WHERE document = ? ORDER BY seq")
                .bind(&id)
                .fetch_all(&self.read)
                .await?;
        Ok(Some(StoredDocument {
            kind,
            snapshot: row.try_get("snapshot")?,
            chunks,
            last_seq: seq(row.try_get("last_seq")?),
        }))
    }

    async fn document_seq(&self, id: &DocumentId) -> Result<Option<u64>> {
        let found: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM documents WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        Ok(found.map(seq))
    }

    async fn chunks_after(&self, id: &DocumentId, after: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let rows =
            sqlx::query("SELECT seq, data FROM chunks WHERE document = ? AND seq > ? ORDER BY seq")
                .bind(id.to_string())
                .bind(clamp(after))
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|row| Ok((seq(row.try_get("seq")?), row.try_get("data")?)))
            .collect()
    }

    async fn documents_since(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<(DocumentId, u64, Vec<String>)>> {
        let rows = sqlx::query(
            "SELECT id, last_seq, heads FROM documents WHERE last_seq > ? ORDER BY last_seq LIMIT ?",
        )
        .bind(clamp(after))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let heads: String = row.try_get("heads")?;
                let heads = heads
                    .split(',')
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned);
                Ok((
                    parse(row, "id")?,
                    seq(row.try_get("last_seq")?),
                    heads.collect(),
                ))
            })
            .collect()
    }

    async fn latest_seq(&self) -> Result<u64> {
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM chunks")
            .fetch_one(&self.read)
            .await?;
        Ok(found.map(seq).unwrap_or_default())
    }

    async fn agent_by_email(&self, email: &str) -> Result<Option<AgentRow>> {
        Ok(sqlx::query_as("SELECT * FROM agents WHERE email = ?")
            .bind(email.trim())
            .fetch_optional(&self.read)
            .await?)
    }

    async fn agent(&self, id: &AgentId) -> Result<Option<AgentRow>> {
        Ok(sqlx::query_as("SELECT * FROM agents WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await?)
    }

    async fn agents(&self) -> Result<Vec<AgentRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM agents ORDER BY created_at, id")
                .fetch_all(&self.read)
                .await?,
        )
    }

    async fn channel(&self, id: &ChannelId) -> Result<Option<ChannelRow>> {
        Ok(sqlx::query_as("SELECT * FROM channels WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.read)
            .await?)
    }

    async fn channels(&self) -> Result<Vec<ChannelRow>> {
        Ok(
            sqlx::query_as("SELECT * FROM channels ORDER BY created_at, id")
                .fetch_all(&self.read)
                .await?,
        )
    }

    async fn session_agent(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<(AgentId, Millis)>> {
        let found = sqlx::query(
            "SELECT agent, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        found
            .map(|row| Ok((parse(&row, "agent")?, row.try_get("expires_at")?)))
            .transpose()
    }

    async fn api_token_agent(&self, token_hash: &str, now: Millis) -> Result<Option<AgentId>> {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT agent FROM api_tokens WHERE token_hash = ? AND revoked = 0 \
             AND (expires_at IS NULL OR expires_at > ?)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?;
        found
            .map(|id| id.parse().map_err(|e| StoreError::Corrupt(format!("{e}"))))
            .transpose()
    }

    async fn api_tokens(&self, agent: &AgentId) -> Result<Vec<ApiTokenRow>> {
        sqlx::query(
            "SELECT substr(token_hash, 1, 16) AS id, agent, created_at, expires_at, revoked \
             FROM api_tokens WHERE agent = ? ORDER BY created_at DESC",
        )
        .bind(agent.as_str())
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|row| {
            Ok(ApiTokenRow {
                id: row.try_get("id")?,
                agent: parse(row, "agent")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
                revoked: row.try_get("revoked")?,
            })
        })
        .collect()
    }

    async fn online_history(
        &self,
        agent: &AgentId,
        since: Millis,
        stale: Millis,
    ) -> Result<OnlineHistory> {
        let first: Option<Millis> =
            sqlx::query_scalar("SELECT at FROM online_first WHERE agent = ?")
                .bind(agent.as_str())
                .fetch_optional(&self.read)
                .await?;
        let rows = sqlx::query(
            "SELECT started, seen, ended FROM online_spans \
             WHERE agent = ? AND (ended IS NULL OR ended >= ?)",
        )
        .bind(agent.as_str())
        .bind(since)
        .fetch_all(&self.read)
        .await?;
        let spans = rows
            .iter()
            .map(|row| {
                let seen: Millis = row.try_get("seen")?;
                let ended: Option<Millis> = row.try_get("ended")?;
                let end = ended.or_else(|| (seen < stale).then_some(seen + ONLINE_TOUCH_MS));
                Ok(Span {
                    start: row.try_get("started")?,
                    end,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(OnlineHistory {
            first,
            spans,
            windows: Default::default(),
        })
    }

    async fn conversation(&self, id: &ConversationId) -> Result<Option<ConversationRow>> {
        sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = ?"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.read)
        .await?
        .as_ref()
        .map(conversation_row)
        .transpose()
    }

    async fn conversations(&self, q: &ConversationQuery) -> Result<Vec<ConversationRow>> {
        let mut sql: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE status = "
        ));
        sql.push_bind(&q.status);
        match q.view {
            View::Unassigned => {
                sql.push(" AND assignee IS NULL");
            }
            View::Mine => {
                sql.push(" AND assignee = ").push_bind(q.agent.as_str());
            }
            View::All => {}
        }
        if let Some(channel) = &q.channel {
            sql.push(" AND channel = ").push_bind(channel.as_str());
        }
        if let Some(search) = &q.search {
            let pattern = format!("%{}%", escape_like(search));
            sql.push(" AND (customer_name LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR customer_email LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR subject LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some((at, id)) = &q.after {
            sql.push(" AND (last_activity_at < ")
                .push_bind(*at)
                .push(" OR (last_activity_at = ")
                .push_bind(*at)
                .push(" AND id < ")
                .push_bind(id.as_str())
                .push("))");
        }
        sql.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(q.limit));
        sql.build()
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(conversation_row)
            .collect()
    }

    async fn open_conversations_of(&self, agent: &AgentId) -> Result<Vec<ConversationRow>> {
        sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE assignee = ? AND status = 'open'"
        ))
        .bind(agent.as_str())
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(conversation_row)
        .collect()
    }

    async fn counts(&self, agent: &AgentId, channel: Option<&ChannelId>) -> Result<Counts> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS all_open, \
             COALESCE(SUM(assignee IS NULL), 0) AS unassigned, \
             COALESCE(SUM(assignee = ?), 0) AS mine \
             FROM conversations WHERE status = 'open' AND (? IS NULL OR channel = ?)",
        )
        .bind(agent.as_str())
        .bind(channel.map(|c| c.as_str()))
        .bind(channel.map(|c| c.as_str()))
        .fetch_one(&self.read)
        .await?;
        Ok(Counts {
            unassigned: seq(row.try_get("unassigned")?),
            mine: seq(row.try_get("mine")?),
            all: seq(row.try_get("all_open")?),
        })
    }

    async fn notifications(&self, agent: &AgentId, limit: u32) -> Result<Vec<NotificationRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM notifications WHERE agent = ? ORDER BY at DESC, id DESC LIMIT ?",
        )
        .bind(agent.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?)
    }

    async fn unread_notifications(&self, agent: &AgentId) -> Result<u64> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE agent = ? AND read = 0")
                .bind(agent.as_str())
                .fetch_one(&self.read)
                .await?;
        Ok(seq(count))
    }

    async fn replies_after(
        &self,
        channel: &ChannelId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ReplyRow>> {
        Ok(sqlx::query_as(
            "SELECT * FROM replies WHERE channel = ? AND seq > ? ORDER BY seq, at, message LIMIT ?",
        )
        .bind(channel.as_str())
        .bind(clamp(after))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?)
    }

    async fn workflow_runs(&self, limit: u32) -> Result<Vec<WorkflowRunRow>> {
        workflows::runs(&self.read, limit).await
    }

    async fn done_runs(&self, keys: &[String]) -> Result<Vec<String>> {
        workflows::done(&self.read, keys).await
    }

    async fn workflow_cursors(&self) -> Result<Vec<(WorkflowId, AgentId)>> {
        workflows::cursors(&self.read).await
    }

    async fn open_counts(&self) -> Result<Vec<(AgentId, u32)>> {
        workflows::open_counts(&self.read).await
    }

    async fn unassigned_since(
        &self,
        cutoff: Millis,
        after: Option<(Millis, ConversationId)>,
        limit: u32,
    ) -> Result<Vec<ConversationRow>> {
        workflows::unassigned_since(&self.read, cutoff, after, limit).await
    }

    async fn actor_principal(&self, actor: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT principal FROM actors WHERE actor = ?")
                .bind(actor)
                .fetch_optional(&self.read)
                .await?,
        )
    }
}

/// Escapes `%`, `_` and `\` so a search is for the literal text.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
