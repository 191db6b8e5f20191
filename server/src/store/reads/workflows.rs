//! The reads behind workflows: the run log, which runs are done,
//! round-robin cursors, open counts per agent and conversations waiting for
//! an assignee.

use baton_shared::ids::{AgentId, ConversationId, WorkflowId};
use baton_shared::model::Millis;
use sqlx::AnyPool;

use super::super::rows::{self, CONVERSATION_COLUMNS, parse};
use super::super::sql::Sql;
use super::all;
use crate::store::{ConversationRow, Result, WorkflowRunRow};

/// Keys per query: far below either engine's limit on arguments.
const KEYS_PER_QUERY: usize = 500;

pub(super) async fn runs(pool: &AnyPool, limit: u32) -> Result<Vec<WorkflowRunRow>> {
    all(
        sqlx::query("SELECT * FROM workflow_runs ORDER BY at DESC, key DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?,
        rows::read,
    )
}

pub(super) async fn done(pool: &AnyPool, keys: &[String]) -> Result<Vec<String>> {
    let mut found = Vec::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let mut sql = Sql::new("SELECT key FROM workflow_runs WHERE key IN (");
        sql.bind_list(chunk.iter().map(String::as_str)).push(")");
        let (text, args) = sql.build();
        let rows: Vec<String> = sqlx::query_scalar_with(&text, args).fetch_all(pool).await?;
        found.extend(rows);
    }
    Ok(found)
}

pub(super) async fn cursors(pool: &AnyPool) -> Result<Vec<(WorkflowId, AgentId)>> {
    sqlx::query("SELECT workflow, agent FROM workflow_cursors")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| Ok((parse(row, "workflow")?, parse(row, "agent")?)))
        .collect()
}

pub(super) async fn open_counts(pool: &AnyPool) -> Result<Vec<(AgentId, u32)>> {
    sqlx::query(
        "SELECT assignee, COUNT(*) AS held FROM conversations \
         WHERE status = 'open' AND assignee IS NOT NULL GROUP BY assignee",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| Ok((parse(row, "assignee")?, rows::count(row, "held")?)))
    .collect()
}

pub(super) async fn unassigned_since(
    pool: &AnyPool,
    cutoff: Millis,
    after: Option<(Millis, ConversationId)>,
    limit: u32,
) -> Result<Vec<ConversationRow>> {
    let (after_at, after_id) = match &after {
        Some((at, id)) => (*at, id.as_str()),
        None => (Millis::MIN, ""),
    };
    let found = sqlx::query(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations \
         WHERE unassigned_since IS NOT NULL AND unassigned_since <= $1 AND status = 'open' \
         AND (unassigned_since > $2 OR (unassigned_since = $2 AND id > $3)) \
         ORDER BY unassigned_since, id LIMIT $4"
    ))
    .bind(cutoff)
    .bind(after_at)
    .bind(after_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    all(found, rows::read)
}
