//! What Baton reads, as one set of statements both engines run. The inbox
//! lists' reads are in `conversations`, the workflows' in `workflows`.

mod conversations;
mod saved;
mod workflows;

use async_trait::async_trait;
use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId, WorkflowId};
use baton_shared::model::Millis;
use baton_shared::validate::{OnlineHistory, Span};

use sqlx::Row;
use sqlx::any::AnyRow;

use super::database::SqlStore;
use super::rows::{self, parse};
use super::{
    AgentRow, ApiTokenRow, CatchUp, ChannelRow, ConversationQuery, ConversationRow, Counts,
    DocumentKind, NotificationRow, ONLINE_TOUCH_MS, Reads, ReplyRow, Result, Saved, StoreError,
    StoredDocument, Told, WorkflowRunRow,
};

/// A sequence from a client as the databases' signed integer: past the
/// largest, it means "after everything".
pub(super) fn clamp(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

fn heads(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .collect()
}

#[async_trait]
impl Reads for SqlStore {
    async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.read)
            .await?)
    }

    async fn document(&self, id: &DocumentId) -> Result<Option<StoredDocument>> {
        let id = id.to_string();
        // One snapshot: a compaction between the two reads would otherwise
        // pair an old snapshot with the chunks after a new one.
        let mut tx = self.snapshot().await?;
        let Some(row) = sqlx::query("SELECT kind, snapshot, last_seq FROM documents WHERE id = $1")
            .bind(&id)
            .fetch_optional(&mut *tx)
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
            sqlx::query_scalar("SELECT data FROM chunks WHERE document = $1 ORDER BY seq")
                .bind(&id)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(Some(StoredDocument {
            kind,
            snapshot: row.try_get("snapshot")?,
            chunks,
            last_seq: rows::seq(&row, "last_seq")?,
        }))
    }

    async fn document_seq(&self, id: &DocumentId) -> Result<Option<u64>> {
        let found: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM documents WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await?;
        Ok(found.map(|seq| u64::try_from(seq).unwrap_or_default()))
    }

    async fn chunks_after(&self, id: &DocumentId, after: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        sqlx::query("SELECT seq, data FROM chunks WHERE document = $1 AND seq > $2 ORDER BY seq")
            .bind(id.to_string())
            .bind(clamp(after))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| Ok((rows::seq(row, "seq")?, row.try_get("data")?)))
            .collect()
    }

    async fn clock(&self) -> Result<u64> {
        let clock: i64 = sqlx::query_scalar("SELECT seq FROM commit_clock WHERE id = 1")
            .fetch_one(&self.read)
            .await?;
        Ok(u64::try_from(clock).unwrap_or_default())
    }

    async fn catch_up(&self, after: u64, limit: u32) -> Result<CatchUp> {
        // The clock and the documents in one snapshot: every commit at or
        // below the clock is visible in it, so the clock is a position no
        // later commit can fall behind.
        let mut tx = self.snapshot().await?;
        let clock: i64 = sqlx::query_scalar("SELECT seq FROM commit_clock WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let found = sqlx::query(
            "SELECT id, last_seq, heads FROM documents \
             WHERE last_seq > $1 AND last_seq <= $2 ORDER BY last_seq LIMIT $3",
        )
        .bind(clamp(after))
        .bind(clock)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let documents = found
            .iter()
            .map(|row| {
                let text: String = row.try_get("heads")?;
                Ok((parse(row, "id")?, rows::seq(row, "last_seq")?, heads(&text)))
            })
            .collect::<Result<Vec<_>>>()?;
        let more = documents.len() >= limit as usize;
        // A full page ends at its last document; the next starts after it.
        let seq = match documents.last() {
            Some((_, last, _)) if more => *last,
            _ => u64::try_from(clock).unwrap_or_default().max(after),
        };
        Ok(CatchUp {
            seq,
            documents,
            more,
        })
    }

    async fn saved(&self, ids: &[DocumentId], budget: usize) -> Result<Saved> {
        if ids.is_empty() {
            return Ok(Saved {
                documents: Vec::new(),
                read: 0,
            });
        }
        // One snapshot: a compaction between the reads would otherwise pair
        // an old snapshot with the chunks after a new one.
        saved::read(self.snapshot().await?, ids, budget).await
    }

    async fn told(&self, after: u64, upto: u64) -> Result<Vec<Told>> {
        sqlx::query("SELECT seq, node, body FROM outbox WHERE seq > $1 AND seq <= $2 ORDER BY seq")
            .bind(clamp(after))
            .bind(clamp(upto))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|row| {
                let body: String = row.try_get("body")?;
                Ok(Told {
                    seq: rows::seq(row, "seq")?,
                    node: row.try_get("node")?,
                    broadcast: serde_json::from_str(&body)
                        .map_err(|e| StoreError::Corrupt(format!("outbox row: {e}")))?,
                })
            })
            .collect()
    }

    async fn agent_by_email(&self, email: &str) -> Result<Option<AgentRow>> {
        self.row_where(
            "SELECT * FROM agents WHERE lower(email) = lower($1)",
            email.trim(),
        )
        .await
    }

    async fn agent(&self, id: &AgentId) -> Result<Option<AgentRow>> {
        self.row_where("SELECT * FROM agents WHERE id = $1", id.as_str())
            .await
    }

    async fn agents(&self) -> Result<Vec<AgentRow>> {
        self.rows_of("SELECT * FROM agents ORDER BY created_at, id")
            .await
    }

    async fn channel(&self, id: &ChannelId) -> Result<Option<ChannelRow>> {
        self.row_where("SELECT * FROM channels WHERE id = $1", id.as_str())
            .await
    }

    async fn channels(&self) -> Result<Vec<ChannelRow>> {
        self.rows_of("SELECT * FROM channels ORDER BY created_at, id")
            .await
    }

    async fn session_agent(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<(AgentId, Millis)>> {
        sqlx::query(
            "SELECT agent, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?
        .map(|row| Ok((parse(&row, "agent")?, row.try_get("expires_at")?)))
        .transpose()
    }

    async fn api_token_agent(&self, token_hash: &str, now: Millis) -> Result<Option<AgentId>> {
        sqlx::query(
            "SELECT agent FROM api_tokens WHERE token_hash = $1 AND revoked = FALSE \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.read)
        .await?
        .map(|row| Ok(parse(&row, "agent")?))
        .transpose()
    }

    async fn api_tokens(&self, agent: &AgentId) -> Result<Vec<ApiTokenRow>> {
        all(
            sqlx::query(
                "SELECT substr(token_hash, 1, 16) AS id, agent, created_at, expires_at, revoked \
                 FROM api_tokens WHERE agent = $1 ORDER BY created_at DESC",
            )
            .bind(agent.as_str())
            .fetch_all(&self.read)
            .await?,
            rows::read,
        )
    }

    async fn online_history(
        &self,
        agent: &AgentId,
        since: Millis,
        stale: Millis,
    ) -> Result<OnlineHistory> {
        let first: Option<Millis> =
            sqlx::query_scalar("SELECT at FROM online_first WHERE agent = $1")
                .bind(agent.as_str())
                .fetch_optional(&self.read)
                .await?;
        let spans = sqlx::query(
            "SELECT started, seen, ended FROM online_spans \
             WHERE agent = $1 AND (ended IS NULL OR ended >= $2)",
        )
        .bind(agent.as_str())
        .bind(since)
        .fetch_all(&self.read)
        .await?
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
        conversations::one(&self.read, id).await
    }

    async fn conversations(&self, q: &ConversationQuery) -> Result<Vec<ConversationRow>> {
        conversations::list(&self.read, q).await
    }

    async fn open_conversations_of(&self, agent: &AgentId) -> Result<Vec<ConversationRow>> {
        conversations::open_of(&self.read, agent).await
    }

    async fn counts(&self, agent: &AgentId, channel: Option<&ChannelId>) -> Result<Counts> {
        conversations::counts(&self.read, agent, channel).await
    }

    async fn notifications(&self, agent: &AgentId, limit: u32) -> Result<Vec<NotificationRow>> {
        all(
            sqlx::query(
                "SELECT * FROM notifications WHERE agent = $1 \
                 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(agent.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?,
            rows::read,
        )
    }

    async fn unread_notifications(&self, agent: &AgentId) -> Result<u64> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE agent = $1 AND read = FALSE",
        )
        .bind(agent.as_str())
        .fetch_one(&self.read)
        .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn replies_after(
        &self,
        channel: &ChannelId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<ReplyRow>> {
        all(
            sqlx::query(
                "SELECT * FROM replies WHERE channel = $1 AND seq > $2 \
                 ORDER BY seq, at, message LIMIT $3",
            )
            .bind(channel.as_str())
            .bind(clamp(after))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?,
            rows::read,
        )
    }

    async fn actor_principal(&self, actor: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT principal FROM actors WHERE actor = $1")
                .bind(actor)
                .fetch_optional(&self.read)
                .await?,
        )
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
}

/// Every row through `map`.
impl SqlStore {
    /// The one row `sql` finds for `key` (its `$1`), if any.
    async fn row_where<T: for<'r> sqlx::FromRow<'r, AnyRow>>(
        &self,
        sql: &str,
        key: &str,
    ) -> Result<Option<T>> {
        let row = sqlx::query(sql)
            .bind(key)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(rows::read).transpose()
    }

    /// Every row `sql` finds.
    async fn rows_of<T: for<'r> sqlx::FromRow<'r, AnyRow>>(&self, sql: &str) -> Result<Vec<T>> {
        all(sqlx::query(sql).fetch_all(&self.read).await?, rows::read)
    }
}

pub(super) fn all<T>(rows: Vec<AnyRow>, map: impl Fn(&AnyRow) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(map).collect()
}
