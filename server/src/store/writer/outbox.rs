//! The outbox: what this process tells every other's sockets, under a
//! sequence of the commit clock so they read it in order.

use sqlx::AnyConnection;

use super::super::StoreError;
use super::Clock;
use crate::broadcast::Broadcast;

pub(super) async fn tell(
    c: &mut AnyConnection,
    clock: &mut Clock<'_>,
    node: &str,
    broadcast: &Broadcast,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(broadcast)
        .map_err(|e| StoreError::Corrupt(format!("outbox row: {e}")))?;
    sqlx::query("INSERT INTO outbox (seq, node, kind, body, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(clock.take().await?)
        .bind(node)
        .bind(broadcast.kind())
        .bind(body)
        .bind(baton_shared::clock::now())
        .execute(&mut *c)
        .await?;
    Ok(())
}
