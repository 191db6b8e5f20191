//! The reads behind the inbox lists: one conversation's row, a page of a
//! list (views, filters, search), an agent's open conversations and the
//! counts beside the views.

use baton_shared::ids::{AgentId, ChannelId, ConversationId};
use sqlx::{AnyPool, Row};

use super::super::rows::{self, CONVERSATION_COLUMNS};
use super::super::sql::Sql;
use super::all;
use crate::store::{ConversationQuery, ConversationRow, Counts, Result, View};

/// One conversation's row.
pub(super) async fn one(pool: &AnyPool, id: &ConversationId) -> Result<Option<ConversationRow>> {
    sqlx::query(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(pool)
    .await?
    .as_ref()
    .map(rows::read)
    .transpose()
}

/// A page of one list: a view, a status, maybe a channel and a search,
/// in the order every list has (latest activity first).
pub(super) async fn list(pool: &AnyPool, q: &ConversationQuery) -> Result<Vec<ConversationRow>> {
    let mut sql = Sql::new(format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE status = "
    ));
    sql.bind(q.status.as_str());
    match q.view {
        View::Unassigned => {
            sql.push(" AND assignee IS NULL");
        }
        View::Mine => {
            sql.push(" AND assignee = ").bind(q.agent.as_str());
        }
        View::All => {}
    }
    if let Some(channel) = &q.channel {
        sql.push(" AND channel = ").bind(channel.as_str());
    }
    if let Some(search) = &q.search {
        // Case-insensitive on both engines (PostgreSQL's LIKE is not).
        let pattern = format!("%{}%", escape_like(search));
        sql.push(" AND (lower(customer_name) LIKE lower(")
            .bind(pattern.clone())
            .push(") ESCAPE '\\' OR lower(customer_email) LIKE lower(")
            .bind(pattern.clone())
            .push(") ESCAPE '\\' OR lower(subject) LIKE lower(")
            .bind(pattern)
            .push(") ESCAPE '\\')");
    }
    if let Some((at, id)) = &q.after {
        sql.push(" AND (last_activity_at < ")
            .bind(*at)
            .push(" OR (last_activity_at = ")
            .bind(*at)
            .push(" AND id < ")
            .bind(id.as_str())
            .push("))");
    }
    sql.push(" ORDER BY last_activity_at DESC, id DESC LIMIT ")
        .bind(i64::from(q.limit));
    let (text, args) = sql.build();
    all(
        sqlx::query_with(&text, args).fetch_all(pool).await?,
        rows::read,
    )
}

/// The open conversations `agent` holds.
pub(super) async fn open_of(pool: &AnyPool, agent: &AgentId) -> Result<Vec<ConversationRow>> {
    all(
        sqlx::query(&format!(
            "SELECT {CONVERSATION_COLUMNS} FROM conversations \
             WHERE assignee = $1 AND status = 'open'"
        ))
        .bind(agent.as_str())
        .fetch_all(pool)
        .await?,
        rows::read,
    )
}

/// The counts beside the views: unassigned, mine and all open.
pub(super) async fn counts(
    pool: &AnyPool,
    agent: &AgentId,
    channel: Option<&ChannelId>,
) -> Result<Counts> {
    let mut sql = Sql::new(
        "SELECT COUNT(*) AS all_open, \
         COALESCE(SUM(CASE WHEN assignee IS NULL THEN 1 ELSE 0 END), 0) AS unassigned, \
         COALESCE(SUM(CASE WHEN assignee = ",
    );
    sql.bind(agent.as_str())
        .push(" THEN 1 ELSE 0 END), 0) AS mine FROM conversations WHERE status = 'open'");
    if let Some(channel) = channel {
        sql.push(" AND channel = ").bind(channel.as_str());
    }
    let (text, args) = sql.build();
    let row = sqlx::query_with(&text, args).fetch_one(pool).await?;
    let number = |column: &str| -> Result<u64> {
        let value: i64 = row.try_get(column)?;
        Ok(u64::try_from(value).unwrap_or_default())
    };
    Ok(Counts {
        unassigned: number("unassigned")?,
        mine: number("mine")?,
        all: number("all_open")?,
    })
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
