//! Notifications: a batch's row counts up, read marks; each told to the
//! other processes through the outbox with the count as stored.

use sqlx::AnyConnection;

use super::super::{Receipt, StoreError, Write};
use super::{Clock, outbox};
use crate::broadcast::Broadcast;

pub(super) async fn apply(
    c: &mut AnyConnection,
    write: &Write,
    receipt: &mut Receipt,
    clock: &mut Clock<'_>,
    node: &str,
) -> Result<(), StoreError> {
    match write {
        Write::Notification(n) => {
            // The stored count is the batch's count so far, whatever order
            // its commits came in: it is what everyone is shown.
            let count: i64 = sqlx::query_scalar(
                "INSERT INTO notifications (id, agent, conversation, document, kind, \
                 actor, subject, batch, count, at, read) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (agent, batch) WHERE batch IS NOT NULL DO UPDATE SET \
                 count = notifications.count + excluded.count, at = excluded.at, read = FALSE \
                 RETURNING count",
            )
            .bind(&n.id)
            .bind(n.agent.as_str())
            .bind(n.conversation.as_str())
            .bind(n.document.to_string())
            .bind(<&'static str>::from(n.kind))
            .bind(n.actor.as_deref())
            .bind(&n.subject)
            .bind(n.batch.as_deref())
            .bind(i64::from(n.count))
            .bind(n.at)
            .bind(n.read)
            .fetch_one(&mut *c)
            .await?;
            let count = u32::try_from(count).unwrap_or(u32::MAX);
            receipt.counts.push((n.id.clone(), count));
            let mut row = n.clone();
            row.count = count;
            outbox::tell(c, clock, node, &Broadcast::Notification { row }).await?;
        }
        Write::MarkNotificationsRead { agent, ids } => {
            for id in ids {
                sqlx::query("UPDATE notifications SET read = TRUE WHERE agent = $1 AND id = $2")
                    .bind(agent.as_str())
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            }
            let read = Broadcast::Read {
                agent: agent.clone(),
                ids: ids.clone(),
            };
            outbox::tell(c, clock, node, &read).await?;
        }
        Write::Broadcast(broadcast) => outbox::tell(c, clock, node, broadcast).await?,
        Write::PruneOutbox { before } => {
            sqlx::query("DELETE FROM outbox WHERE at < $1")
                .bind(before)
                .execute(&mut *c)
                .await?;
        }
        _ => {}
    }
    Ok(())
}
