//! Moving a deployment between engines (`baton migrate-store`): every table
//! is copied as it is, commit sequences included, and the target's commit
//! clock starts where the source's stood, so positions clients keep
//! (catch-up, replies to deliver) stay valid on the new database.

use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{Any, Connection, Row, Transaction};

use super::database::SqlStore;
use super::sql::Sql;
use super::{Result, StoreError};

/// How a column is read and written.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Bytes,
    /// PostgreSQL's BOOLEAN, SQLite's 0/1.
    Flag,
}

/// Every table Baton keeps, parents before children, with its columns.
/// The outbox is left behind: it only tells sockets open right now.
const TABLES: &[(&str, &[(&str, Kind)])] = {
    use Kind::{Bytes, Flag, Int, Text};
    &[
        ("meta", &[("key", Text), ("value", Text)]),
        (
            "documents",
            &[
                ("id", Text),
                ("kind", Text),
                ("snapshot", Bytes),
                ("last_seq", Int),
                ("heads", Text),
            ],
        ),
        (
            "chunks",
            &[("seq", Int), ("document", Text), ("data", Bytes)],
        ),
        (
            "conversations",
            &[
                ("id", Text),
                ("document", Text),
                ("channel", Text),
                ("subject", Text),
                ("customer_name", Text),
                ("customer_email", Text),
                ("status", Text),
                ("assignee", Text),
                ("created_at", Int),
                ("last_activity_at", Int),
                ("preview", Text),
                ("messages", Int),
                ("seq", Int),
                ("unassigned_since", Int),
            ],
        ),
        (
            "agents",
            &[
                ("id", Text),
                ("email", Text),
                ("name", Text),
                ("role", Text),
                ("active", Flag),
                ("password_hash", Text),
                ("created_at", Int),
            ],
        ),
        (
            "sessions",
            &[
                ("token_hash", Text),
                ("agent", Text),
                ("created_at", Int),
                ("expires_at", Int),
            ],
        ),
        (
            "api_tokens",
            &[
                ("token_hash", Text),
                ("agent", Text),
                ("created_at", Int),
                ("revoked", Flag),
                ("expires_at", Int),
            ],
        ),
        (
            "channels",
            &[
                ("id", Text),
                ("name", Text),
                ("secret_hash", Text),
                ("created_at", Int),
            ],
        ),
        (
            "notifications",
            &[
                ("id", Text),
                ("agent", Text),
                ("conversation", Text),
                ("document", Text),
                ("kind", Text),
                ("actor", Text),
                ("subject", Text),
                ("batch", Text),
                ("count", Int),
                ("at", Int),
                ("read", Flag),
            ],
        ),
        (
            "replies",
            &[
                ("message", Text),
                ("seq", Int),
                ("channel", Text),
                ("conversation", Text),
                ("author", Text),
                ("body", Text),
                ("at", Int),
                ("customer_email", Text),
            ],
        ),
        ("actors", &[("actor", Text), ("principal", Text)]),
        (
            "workflow_runs",
            &[
                ("key", Text),
                ("workflow", Text),
                ("workflow_name", Text),
                ("conversation", Text),
                ("document", Text),
                ("event", Text),
                ("outcome", Text),
                ("run", Text),
                ("at", Int),
            ],
        ),
        ("workflow_cursors", &[("workflow", Text), ("agent", Text)]),
        (
            "online_spans",
            &[
                ("id", Text),
                ("agent", Text),
                ("started", Int),
                ("seen", Int),
                ("ended", Int),
            ],
        ),
        ("online_first", &[("agent", Text), ("at", Int)]),
    ]
};

/// Rows per INSERT statement.
const ROWS_PER_INSERT: usize = 100;

/// What a copy moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Rows copied per table.
    pub tables: Vec<(&'static str, u64)>,
    /// Where the target's commit clock now stands.
    pub seq: u64,
}

/// One value on its way between engines.
enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bytes(Option<Vec<u8>>),
    Flag(bool),
}

/// Copies everything `from` keeps into `to`, which must hold nothing yet,
/// in one transaction on the target: a failed copy leaves it empty. Both
/// should be idle (no `baton serve` on either) while it runs.
pub async fn copy_store(from: &SqlStore, to: &SqlStore) -> Result<Copied> {
    let held: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM documents) + (SELECT COUNT(*) FROM agents)",
    )
    .fetch_one(&to.read)
    .await?;
    if held > 0 {
        return Err(StoreError::Open(format!(
            "{} already holds a workspace or agents; copy into an empty database",
            to.engine().describe()
        )));
    }
    let mut source = from.snapshot().await?;
    let mut target = to.engine().connect().await?;
    let mut tx = target.begin().await?;
    let mut tables = Vec::new();
    for (table, columns) in TABLES {
        // A target started once may hold its own meta rows: the source's win.
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
        let rows = copy_table(&mut source, &mut tx, table, columns).await?;
        tables.push((*table, rows));
    }
    let seq: i64 = sqlx::query_scalar("SELECT seq FROM commit_clock WHERE id = 1")
        .fetch_one(&mut *source)
        .await?;
    sqlx::query("UPDATE commit_clock SET seq = $1 WHERE id = 1")
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    source.commit().await?;
    target.close().await?;
    Ok(Copied {
        tables,
        seq: u64::try_from(seq).unwrap_or_default(),
    })
}

async fn copy_table(
    source: &mut Transaction<'static, Any>,
    target: &mut Transaction<'_, Any>,
    table: &str,
    columns: &[(&str, Kind)],
) -> Result<u64> {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let select = format!("SELECT {} FROM {table}", names.join(", "));
    let mut rows = sqlx::query(&select).fetch(&mut **source);
    let mut batch = Vec::new();
    let mut copied = 0;
    while let Some(row) = rows.try_next().await? {
        batch.push(read_row(&row, columns)?);
        if batch.len() == ROWS_PER_INSERT {
            copied += insert(target, table, &names, std::mem::take(&mut batch)).await?;
        }
    }
    drop(rows);
    copied += insert(target, table, &names, batch).await?;
    Ok(copied)
}

fn read_row(row: &AnyRow, columns: &[(&str, Kind)]) -> Result<Vec<Value>> {
    columns
        .iter()
        .map(|(name, kind)| {
            Ok(match kind {
                Kind::Text => Value::Text(row.try_get(*name)?),
                Kind::Int => Value::Int(row.try_get(*name)?),
                Kind::Bytes => Value::Bytes(row.try_get(*name)?),
                Kind::Flag => Value::Flag(super::rows::flag(row, name)?),
            })
        })
        .collect()
}

async fn insert(
    target: &mut Transaction<'_, Any>,
    table: &str,
    names: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let count = rows.len() as u64;
    let mut sql = Sql::new(format!(
        "INSERT INTO {table} ({}) VALUES ",
        names.join(", ")
    ));
    for (i, row) in rows.into_iter().enumerate() {
        sql.push(if i == 0 { "(" } else { ", (" });
        for (j, value) in row.into_iter().enumerate() {
            if j > 0 {
                sql.push(", ");
            }
            match value {
                Value::Text(v) => sql.bind(v),
                Value::Int(v) => sql.bind(v),
                Value::Bytes(v) => sql.bind(v),
                Value::Flag(v) => sql.bind(v),
            };
        }
        sql.push(")");
    }
    let (text, args) = sql.build();
    sqlx::query_with(&text, args).execute(&mut **target).await?;
    Ok(count)
}
