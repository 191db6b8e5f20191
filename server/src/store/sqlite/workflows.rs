//! The SQLite queries behind the workflow parts of [`crate::store::Store`]: the run
//! log, which runs are done, round-robin cursors, open counts per agent and
//! conversations waiting for an assignee.

use baton_shared::ids::{AgentId, ConversationId, WorkflowId};
use baton_shared::model::Millis;
use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{CONVERSATION_COLUMNS, conversation_row, parse};
use crate::store::{ConversationRow, Result, WorkflowRunRow};

/// SQLite's limit on bound parameters is far above this; batches stay small.
const KEYS_PER_QUERY: usize = 500;

pub(super) async fn runs(pool: &SqlitePool, limit: u32) -> Result<Vec<WorkflowRunRow>> {
    Ok(
        sqlx::query_as("SELECT * FROM workflow_runs ORDER BY at DESC, key DESC LIMIT ?")
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn done(pool: &SqlitePool, keys: &[String]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let mut sql: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT key FROM workflow_runs WHERE key IN (");
        let mut list = sql.separated(", ");
        for key in chunk {
            list.push_bind(key);
        }
        sql.push(")");
        let rows: Vec<String> = sql.build_query_scalar().fetch_all(pool).await?;
        found.extend(rows);
    }
    Ok(found)
}

pub(super) async fn cursors(pool: &SqlitePool) -> Result<Vec<(WorkflowId, AgentId)>> {
    sqlx::query("SELECT workflow, agent FROM workflow_cursors")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| Ok((parse(row, "workflow")?, parse(row, "agent")?)))
        .collect()
}

pub(super) async fn open_counts(pool: &SqlitePool) -> Result<Vec<(AgentId, u32)>> {
    sqlx::query(
        "SELECT assignee, COUNT(*) AS open FROM conversations \
         WHERE status = 'open' AND assignee IS NOT NULL GROUP BY assignee",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        let open: i64 = row.try_get("open")?;
        Ok((
            parse(row, "assignee")?,
            u32::try_from(open).unwrap_or(u32::MAX),
        ))
    })
    .collect()
}

pub(super) async fn unassigned_since(
    pool: &SqlitePool,
    cutoff: Millis,
    after: Option<(Millis, ConversationId)>,
    limit: u32,
) -> Result<Vec<ConversationRow>> {
    let (after_at, after_id) = match &after {
        Some((at, id)) => (*at, id.as_str()),
        None => (Millis::MIN, ""),
    };
    sqlx::query(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations \
         WHERE unassigned_since IS NOT NULL AND unassigned_since <= ? AND status = 'open' \
         AND (unassigned_since > ? OR (unassigned_since = ? AND id > ?)) \
         ORDER BY unassigned_since, id LIMIT ?"
    ))
    .bind(cutoff)
    .bind(after_at)
    .bind(after_at)
    .bind(after_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(conversation_row)
    .collect()
}
