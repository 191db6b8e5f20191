//! Documents, their projection rows and the replies to deliver.

use sqlx::SqliteConnection;

use super::super::{DocumentKind, Receipt, StoreError, Write};

pub(super) async fn apply(
    c: &mut SqliteConnection,
    write: &Write,
    receipt: &mut Receipt,
) -> Result<(), StoreError> {
    match write {
        Write::Document {
            id,
            kind,
            chunk,
            snapshot,
            heads,
            after,
        } => {
            let seq = document(
                c,
                &id.to_string(),
                *kind,
                chunk,
                snapshot.as_deref(),
                heads,
                *after,
            )
            .await?;
            receipt.seqs.push(seq.0);
            if seq.1 {
                receipt.overtaken.push(seq.0);
            }
        }
        Write::Conversation(row) => {
            sqlx::query(
                "INSERT INTO conversations (id, document, channel, subject, customer_name, \
                 customer_email, status, assignee, created_at, last_activity_at, preview, messages, seq, \
                 unassigned_since) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
                 assignee = excluded.assignee, last_activity_at = excluded.last_activity_at, \
                 preview = excluded.preview, messages = excluded.messages, seq = excluded.seq, \
                 unassigned_since = excluded.unassigned_since",
            )
            .bind(row.id.as_str())
            .bind(row.document.to_string())
            .bind(row.channel.as_str())
            .bind(&row.subject)
            .bind(&row.customer_name)
            .bind(&row.customer_email)
            .bind(row.status.as_str())
            .bind(row.assignee.as_ref().map(|a| a.as_str()))
            .bind(row.created_at)
            .bind(row.last_activity_at)
            .bind(&row.preview)
            .bind(row.messages)
            .bind(receipt.seqs.last().copied().unwrap_or_default() as i64)
            .bind(row.unassigned_since)
            .execute(&mut *c)
            .await?;
        }
        Write::Reply(r) => {
            let seq = receipt.seqs.last().copied().unwrap_or(r.seq);
            sqlx::query(
                "INSERT INTO replies (message, seq, channel, conversation, author, body, at, \
                 customer_email) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (conversation, message) DO NOTHING",
            )
            .bind(&r.message)
            .bind(seq as i64)
            .bind(r.channel.as_str())
            .bind(r.conversation.as_str())
            .bind(r.author.as_str())
            .bind(&r.body)
            .bind(r.at)
            .bind(&r.customer_email)
            .execute(&mut *c)
            .await?;
        }
        _ => {}
    }
    Ok(())
}

/// Writes one document's new chunk (or snapshot); its commit sequence, and
/// whether another process had committed since `after`.
async fn document(
    c: &mut SqliteConnection,
    id: &str,
    kind: DocumentKind,
    chunk: &[u8],
    snapshot: Option<&[u8]>,
    heads: &[String],
    after: Option<u64>,
) -> Result<(u64, bool), StoreError> {
    sqlx::query("INSERT INTO documents (id, kind) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(kind.as_str())
        .execute(&mut *c)
        .await?;
    let overtaken = match after {
        Some(after) => {
            let last: i64 = sqlx::query_scalar("SELECT last_seq FROM documents WHERE id = ?")
                .bind(id)
                .fetch_one(&mut *c)
                .await?;
            u64::try_from(last).unwrap_or_default() != after
        }
        None => false,
    };
    // A snapshot from a copy that missed another process's commit
    // would drop that commit with the chunks it replaces: it is
    // kept as one more chunk instead (a whole save loads as one).
    let (chunk, snapshot) = match snapshot {
        Some(snapshot) if overtaken => (snapshot, None),
        other => (chunk, other),
    };
    if let Some(snapshot) = snapshot {
        sqlx::query("DELETE FROM chunks WHERE document = ?")
            .bind(id)
            .execute(&mut *c)
            .await?;
        sqlx::query("UPDATE documents SET snapshot = ? WHERE id = ?")
            .bind(snapshot)
            .bind(id)
            .execute(&mut *c)
            .await?;
    }
    let seq = sqlx::query("INSERT INTO chunks (document, data) VALUES (?, ?)")
        .bind(id)
        .bind(chunk)
        .execute(&mut *c)
        .await?
        .last_insert_rowid();
    sqlx::query("UPDATE documents SET last_seq = ?, heads = ? WHERE id = ?")
        .bind(seq)
        .bind(heads.join(","))
        .bind(id)
        .execute(&mut *c)
        .await?;
    Ok((u64::try_from(seq).unwrap_or_default(), overtaken))
}
