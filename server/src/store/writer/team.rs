//! Agents and channels.

use sqlx::AnyConnection;

use super::super::{StoreError, Write};
use super::conflict;

pub(super) async fn apply(c: &mut AnyConnection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::Agent(a) => {
            sqlx::query(
                "INSERT INTO agents (id, email, name, role, active, password_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(a.id.as_str())
            .bind(&a.email)
            .bind(&a.name)
            .bind(a.role.as_str())
            .bind(a.active)
            .bind(&a.password_hash)
            .bind(baton_shared::clock::now())
            .execute(&mut *c)
            .await
            .map_err(|e| conflict(e, &format!("an agent with email {}", a.email)))?;
        }
        Write::SetAgentActive { id, active } => {
            sqlx::query("UPDATE agents SET active = $1 WHERE id = $2")
                .bind(active)
                .bind(id.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::UpdateAgent { id, name, role } => {
            sqlx::query("UPDATE agents SET name = $1, role = $2 WHERE id = $3")
                .bind(name)
                .bind(role.as_str())
                .bind(id.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::Channel(ch) => {
            sqlx::query(
                "INSERT INTO channels (id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash",
            )
            .bind(ch.id.as_str())
            .bind(&ch.name)
            .bind(&ch.secret_hash)
            .bind(baton_shared::clock::now())
            .execute(&mut *c)
            .await?;
        }
        _ => {}
    }
    Ok(())
}
