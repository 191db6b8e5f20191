//! When agents were connected.

use sqlx::AnyConnection;

use super::super::{StoreError, Write};

pub(super) async fn apply(c: &mut AnyConnection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::OnlineStarted { id, agent, at } => {
            sqlx::query(
                "INSERT INTO online_spans (id, agent, started, seen) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(agent.as_str())
            .bind(at)
            .bind(at)
            .execute(&mut *c)
            .await?;
            sqlx::query(
                "INSERT INTO online_first (agent, at) VALUES ($1, $2) ON CONFLICT (agent) DO NOTHING",
            )
            .bind(agent.as_str())
            .bind(at)
            .execute(&mut *c)
            .await?;
        }
        Write::OnlineSeen { ids, at } => {
            for id in ids {
                sqlx::query("UPDATE online_spans SET seen = $1 WHERE id = $2 AND ended IS NULL")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            }
        }
        Write::OnlineEnded { id, at } => {
            sqlx::query("UPDATE online_spans SET ended = $1, seen = $2 WHERE id = $3")
                .bind(at)
                .bind(at)
                .bind(id)
                .execute(&mut *c)
                .await?;
        }
        Write::CloseStaleOnline { seen_before, grace } => {
            sqlx::query(
                "UPDATE online_spans SET ended = seen + $1 WHERE ended IS NULL AND seen < $2",
            )
            .bind(grace)
            .bind(seen_before)
            .execute(&mut *c)
            .await?;
        }
        Write::PruneOnline { ended_before } => {
            sqlx::query("DELETE FROM online_spans WHERE ended IS NOT NULL AND ended < $1")
                .bind(ended_before)
                .execute(&mut *c)
                .await?;
        }
        _ => {}
    }
    Ok(())
}
