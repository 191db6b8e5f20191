//! Sessions, API tokens, actor bindings and meta.

use sqlx::SqliteConnection;

use super::super::{StoreError, Write};

pub(super) async fn apply(c: &mut SqliteConnection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::Session {
            token_hash,
            agent,
            created_at,
            expires_at,
        } => {
            sqlx::query("INSERT INTO sessions (token_hash, agent, created_at, expires_at) VALUES (?, ?, ?, ?)")
                .bind(token_hash)
                .bind(agent.as_str())
                .bind(created_at)
                .bind(expires_at)
                .execute(&mut *c)
                .await?;
        }
        Write::DeleteSession { token_hash } => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
                .bind(token_hash)
                .execute(&mut *c)
                .await?;
        }
        Write::DeleteSessionsOf { agent } => {
            sqlx::query("DELETE FROM sessions WHERE agent = ?")
                .bind(agent.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::ApiToken {
            token_hash,
            agent,
            created_at,
            expires_at,
        } => {
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, agent, created_at, expires_at) \
                 VALUES (?, ?, ?, ?)",
            )
            .bind(token_hash)
            .bind(agent.as_str())
            .bind(created_at)
            .bind(expires_at)
            .execute(&mut *c)
            .await?;
        }
        Write::RevokeApiToken { id } => {
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked = 1 WHERE substr(token_hash, 1, 16) = ?",
            )
            .bind(id)
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!("no API token {id}")));
            }
        }
        Write::RevokeApiTokensOf { agent } => {
            sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE agent = ?")
                .bind(agent.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::Meta { key, value } => {
            sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(&mut *c)
                .await?;
        }
        Write::BindActor { actor, principal } => {
            sqlx::query("INSERT INTO actors (actor, principal) VALUES (?, ?) ON CONFLICT (actor) DO NOTHING")
                .bind(actor)
                .bind(principal)
                .execute(&mut *c)
                .await?;
        }
        _ => {}
    }
    Ok(())
}
