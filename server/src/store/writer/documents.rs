//! Documents, their projection rows and the replies to deliver.

use sqlx::AnyConnection;

use super::super::{DocumentKind, Receipt, StoreError, Write};
use super::Clock;

pub(super) async fn apply(
    c: &mut AnyConnection,
    write: &Write,
    receipt: &mut Receipt,
    clock: &mut Clock<'_>,
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
            let document = Document {
                id: &id.to_string(),
                kind: *kind,
                chunk,
                snapshot: snapshot.as_deref(),
                heads,
                after: *after,
            };
            let seq = document.write(c, clock).await?;
            receipt.seqs.push(u64::try_from(seq).unwrap_or_default());
        }
        Write::Conversation(row) => {
            sqlx::query(
                "INSERT INTO conversations (id, document, channel, subject, customer_name, \
                 customer_email, status, assignee, created_at, last_activity_at, preview, \
                 messages, seq, unassigned_since) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
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
            .bind(i64::from(row.messages))
            .bind(last_seq(receipt))
            .bind(row.unassigned_since)
            .execute(&mut *c)
            .await?;
        }
        Write::Reply(r) => {
            let seq = receipt
                .seqs
                .last()
                .map_or(i64::try_from(r.seq).unwrap_or(i64::MAX), |s| {
                    i64::try_from(*s).unwrap_or(i64::MAX)
                });
            sqlx::query(
                "INSERT INTO replies (message, seq, channel, conversation, author, body, at, \
                 customer_email) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (conversation, message) DO NOTHING",
            )
            .bind(&r.message)
            .bind(seq)
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

/// The sequence of the request's latest document write.
fn last_seq(receipt: &Receipt) -> i64 {
    receipt
        .seqs
        .last()
        .map_or(0, |s| i64::try_from(*s).unwrap_or(i64::MAX))
}

/// One document write.
struct Document<'a> {
    id: &'a str,
    kind: DocumentKind,
    chunk: &'a [u8],
    snapshot: Option<&'a [u8]>,
    heads: &'a [String],
    after: Option<u64>,
}

impl Document<'_> {
    /// Writes the new chunk (or snapshot) if the stored document is still
    /// the one the writer's copy was `after`; its commit sequence.
    async fn write(&self, c: &mut AnyConnection, clock: &mut Clock<'_>) -> Result<i64, StoreError> {
        sqlx::query("INSERT INTO documents (id, kind) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
            .bind(self.id)
            .bind(self.kind.as_str())
            .execute(&mut *c)
            .await?;
        if let Some(after) = self.after {
            // Every writer holds the clock, so nothing moves between this
            // read and the write below.
            let last: i64 = sqlx::query_scalar("SELECT last_seq FROM documents WHERE id = $1")
                .bind(self.id)
                .fetch_one(&mut *c)
                .await?;
            if u64::try_from(last).unwrap_or_default() != after {
                return Err(StoreError::Stale(format!(
                    "document {} was committed at {last} since {after}",
                    self.id
                )));
            }
        }
        if let Some(snapshot) = self.snapshot {
            sqlx::query("DELETE FROM chunks WHERE document = $1")
                .bind(self.id)
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE documents SET snapshot = $1 WHERE id = $2")
                .bind(snapshot)
                .bind(self.id)
                .execute(&mut *c)
                .await?;
        }
        let seq = clock.take().await?;
        sqlx::query("INSERT INTO chunks (seq, document, data) VALUES ($1, $2, $3)")
            .bind(seq)
            .bind(self.id)
            .bind(self.chunk)
            .execute(&mut *c)
            .await?;
        sqlx::query("UPDATE documents SET last_seq = $1, heads = $2 WHERE id = $3")
            .bind(seq)
            .bind(self.heads.join(","))
            .bind(self.id)
            .execute(&mut *c)
            .await?;
        Ok(seq)
    }
}
