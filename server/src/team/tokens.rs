//! API tokens: an integration acts as the agent it was issued for, until
//! the token expires or is revoked.

use baton_shared::ids::AgentId;

use super::{TeamError, find_agent};
use crate::broadcast::Broadcast;
use crate::hub::{Hub, HubError};
use crate::secrets;
use crate::store::Write;

/// A new API token: the token itself (shown once) and the id that names it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewToken {
    pub agent: AgentId,
    pub email: String,
    pub id: String,
    pub token: String,
    pub expires_at: Option<baton_shared::model::Millis>,
}

/// Creates an API token that acts as the agent with `email`, valid for
/// `days` days (or until revoked when `None`).
pub async fn create_token(
    hub: &Hub,
    email: &str,
    days: Option<u32>,
) -> Result<NewToken, TeamError> {
    let (email, row) = find_agent(hub, email).await?;
    if !row.active {
        return Err(TeamError::Invalid(format!("{email} is deactivated")));
    }
    let token = secrets::new_token("btok_");
    let hash = secrets::token_hash(&token);
    let now = baton_shared::clock::now();
    let expires_at = days.map(|days| now + i64::from(days) * 24 * 3600 * 1000);
    hub.commit(vec![Write::ApiToken {
        token_hash: hash.clone(),
        agent: row.id.clone(),
        created_at: now,
        expires_at,
    }])
    .await?;
    Ok(NewToken {
        agent: row.id,
        email,
        id: hash.chars().take(16).collect(),
        token,
        expires_at,
    })
}

/// The API tokens of the agent with `email` (never the tokens themselves).
pub async fn list_tokens(
    hub: &Hub,
    email: &str,
) -> Result<Vec<crate::store::ApiTokenRow>, TeamError> {
    let (_, row) = find_agent(hub, email).await?;
    Ok(hub.reads().api_tokens(&row.id).await?)
}

/// Revokes one API token by its id; sockets using it close on every node.
pub async fn revoke_token(hub: &Hub, id: &str) -> Result<(), TeamError> {
    let id = id.trim().to_lowercase();
    if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TeamError::Invalid(
            "a token id is 16 hex digits (see `baton token list`)".to_owned(),
        ));
    }
    let ended = Broadcast::SignedOut {
        credential: id.clone(),
    };
    hub.commit(vec![
        Write::RevokeApiToken { id: id.clone() },
        Write::Broadcast(ended),
    ])
    .await
    .map_err(|e| match e {
        HubError::Store(crate::store::StoreError::Conflict(message)) => {
            TeamError::NotFound(message)
        }
        other => other.into(),
    })?;
    hub.connections().end_credential_prefix(&id);
    Ok(())
}
