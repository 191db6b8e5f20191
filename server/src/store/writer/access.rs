//! Sessions, API tokens, actor bindings and meta.

use sqlx::AnyConnection;

use super::super::{StoreError, Write};
use super::conflict;

pub(super) async fn apply(c: &mut AnyConnection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::Session {
            token_hash,
            agent,
            created_at,
            expires_at,
        } => {
            sqlx::query("INSERT INTO sessions (token_hash, agent, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(token_hash)
                .bind(agent.as_str())
                .bind(created_at)
                .bind(expires_at)
                .execute(&mut *c)
                .await?;
        }
        Write::DeleteSession { token_hash } => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&mut *c)
                .await?;
        }
        Write::DeleteSessionsOf { agent } => {
            sqlx::query("DELETE FROM sessions WHERE agent = $1")
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
                 VALUES ($1, $2, $3, $4)",
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
                "UPDATE api_tokens SET revoked = TRUE WHERE substr(token_hash, 1, 16) = $1",
            )
            .bind(id)
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!("no API token {id}")));
            }
        }
        Write::RevokeApiTokensOf { agent } => {
            sqlx::query("UPDATE api_tokens SET revoked = TRUE WHERE agent = $1")
                .bind(agent.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::Meta { key, value } => {
            sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(&mut *c)
                .await?;
        }
        Write::MetaOnce { key, value } => {
            sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
                .bind(key)
                .bind(value)
                .execute(&mut *c)
                .await
                .map_err(|e| conflict(e, &format!("meta {key}")))?;
        }
        Write::BindActor { actor, principal } => bind_actor(c, actor, principal).await?,
        _ => {}
    }
    Ok(())
}

/// Binds an automerge actor id to the principal whose changes it makes.
async fn bind_actor(c: &mut AnyConnection, actor: &str, principal: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO actors (actor, principal) VALUES ($1, $2) \
         ON CONFLICT (actor) DO NOTHING",
    )
    .bind(actor)
    .bind(principal)
    .execute(&mut *c)
    .await?;
    // Two nodes may each have seen the actor unbound: the first
    // binding stands, and the other's change is refused with it.
    let bound: String = sqlx::query_scalar("SELECT principal FROM actors WHERE actor = $1")
        .bind(actor)
        .fetch_one(&mut *c)
        .await?;
    if bound != principal {
        return Err(StoreError::Conflict(format!(
            "actor {actor} belongs to someone else"
        )));
    }
    Ok(())
}
