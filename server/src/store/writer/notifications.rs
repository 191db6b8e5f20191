//! Notifications: a batch's row counts up, read marks.

use sqlx::SqliteConnection;

use super::super::{Receipt, StoreError, Write};

pub(super) async fn apply(
    c: &mut SqliteConnection,
    write: &Write,
    receipt: &mut Receipt,
) -> Result<(), StoreError> {
    match write {
        Write::Notification(n) => {
            // The stored count is the batch's count so far, whatever order
            // its commits came in: it is what everyone is shown.
            let count: i64 = sqlx::query_scalar(
                "INSERT INTO notifications (id, agent, conversation, document, kind, \
                 actor, subject, batch, count, at, read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (agent, batch) WHERE batch IS NOT NULL DO UPDATE SET \
                 count = notifications.count + excluded.count, at = excluded.at, read = 0 \
                 RETURNING count",
            )
            .bind(&n.id)
            .bind(n.agent.as_str())
            .bind(n.conversation.as_str())
            .bind(n.document.to_string())
            .bind(<&'static str>::from(n.kind))
            .bind(&n.actor)
            .bind(&n.subject)
            .bind(&n.batch)
            .bind(n.count)
            .bind(n.at)
            .bind(n.read)
            .fetch_one(&mut *c)
            .await?;
            receipt
                .counts
                .push((n.id.clone(), u32::try_from(count).unwrap_or(u32::MAX)));
        }
        Write::MarkNotificationsRead { agent, ids } => {
            for id in ids {
                sqlx::query("UPDATE notifications SET read = 1 WHERE agent = ? AND id = ?")
                    .bind(agent.as_str())
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            }
        }
        _ => {}
    }
    Ok(())
}
