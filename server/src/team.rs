//! Managing the team: agents (`agents`), channels (`channels`) and API
//! tokens (`tokens`). Used by the command line and by the API; every change
//! writes the workspace document and the authentication tables in one
//! durable request.

mod agents;
mod channels;
mod tokens;

pub use agents::{
    AgentChange, Deactivated, NewAgent, add_agent, change_agent, deactivate, deactivate_agent,
};
pub use channels::{NewChannel, add_channel, rotate_channel_secret};
pub use tokens::{NewToken, create_token, list_tokens, revoke_token};

use crate::hub::{Hub, HubError};
use crate::store::AgentRow;

/// Why a team change was refused.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("{0}")]
    Invalid(String),
    #[error("an agent with email {0} already exists")]
    DuplicateEmail(String),
    /// The change would break a rule of the team (e.g. no admin left).
    #[error("{0}")]
    Refused(String),
    #[error("no agent has the email {0}")]
    UnknownAgent(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Hub(HubError),
    #[error(transparent)]
    Password(#[from] crate::secrets::HashError),
}

impl From<HubError> for TeamError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::Refused(why) => TeamError::Refused(why),
            other => TeamError::Hub(other),
        }
    }
}

impl From<crate::store::StoreError> for TeamError {
    fn from(e: crate::store::StoreError) -> Self {
        TeamError::Hub(HubError::Store(e))
    }
}

/// The agent with `email` (case-insensitive), or a clear error.
async fn find_agent(hub: &Hub, email: &str) -> Result<(String, AgentRow), TeamError> {
    let email = email.trim().to_lowercase();
    let row = hub
        .reads()
        .agent_by_email(&email)
        .await?
        .ok_or_else(|| TeamError::UnknownAgent(email.clone()))?;
    Ok((email, row))
}

/// A name of 1 to [`baton_shared::limits::MAX_FIELD_BYTES`] bytes, trimmed.
fn check_name(what: &str, name: &str) -> Result<String, TeamError> {
    let name = name.trim();
    if name.is_empty() || name.len() > baton_shared::limits::MAX_FIELD_BYTES {
        return Err(TeamError::Invalid(format!(
            "{what} must be 1 to {} bytes",
            baton_shared::limits::MAX_FIELD_BYTES
        )));
    }
    Ok(name.to_owned())
}
