//! Managing the team: agents, channels and API tokens. Used by the command
//! line and by the API; every change writes the workspace document and the
//! authentication tables in one durable request.

use baton_shared::ids::{AgentId, ChannelId};
use baton_shared::model::{Agent, Channel, Role};
use baton_shared::operations::correct;
use baton_shared::workspace;
use serde::Serialize;

use crate::hub::{Hub, HubError};
use crate::secrets;
use crate::store::{AgentRow, ChannelRow, Write};

/// Why a team change was refused.
#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("{0}")]
    Invalid(String),
    #[error("no agent has the email {0}")]
    UnknownAgent(String),
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
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
        .store
        .agent_by_email(&email)
        .await?
        .ok_or_else(|| TeamError::UnknownAgent(email.clone()))?;
    Ok((email, row))
}

/// A new agent and the password to give them (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct NewAgent {
    pub id: AgentId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: String,
}

fn check_email(email: &str) -> Result<String, TeamError> {
    let email = email.trim().to_lowercase();
    let (user, domain) = email.split_once('@').unwrap_or_default();
    if user.is_empty() || !domain.contains('.') || email.len() > 254 || email.contains(' ') {
        return Err(TeamError::Invalid(format!(
            "{email:?} is not an email address"
        )));
    }
    Ok(email)
}

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

/// Adds an agent (signed up for notifications on every channel).
pub async fn add_agent(
    hub: &Hub,
    email: &str,
    name: &str,
    role: Role,
    password: Option<&str>,
) -> Result<NewAgent, TeamError> {
    let email = check_email(email)?;
    let name = check_name("a name", name)?;
    if hub.store.agent_by_email(&email).await?.is_some() {
        return Err(TeamError::Invalid(format!(
            "an agent with email {email} already exists"
        )));
    }
    let password = match password {
        Some(p) if p.chars().count() < 8 => {
            return Err(TeamError::Invalid(
                "a password needs at least 8 characters".to_owned(),
            ));
        }
        Some(p) => p.to_owned(),
        None => secrets::new_password(),
    };
    let id = AgentId::random();
    let agent = Agent {
        id: id.clone(),
        name: name.clone(),
        email: email.clone(),
        role,
        active: true,
        away: false,
        capacity: None,
    };
    let row = AgentRow {
        id: id.clone(),
        email: email.clone(),
        name: name.clone(),
        role,
        active: true,
        password_hash: secrets::hash_password(&password)?,
    };
    let now = baton_shared::clock::now();
    hub.change_workspace(vec![Write::Agent(row)], |doc, current| {
        workspace::put_agent(doc, &agent, now)?;
        for channel in current.channels.keys() {
            workspace::set_subscription(doc, &agent.id, channel, true, now)?;
        }
        Ok(())
    })
    .await?;
    Ok(NewAgent {
        id,
        email,
        name,
        role,
        password,
    })
}

/// What deactivating an agent did.
#[derive(Debug, Clone, Serialize)]
pub struct Deactivated {
    pub id: AgentId,
    pub email: String,
    /// Open conversations that were theirs and are now unassigned.
    pub unassigned: usize,
}

/// Deactivates an agent: revokes their sessions and tokens and unassigns
/// their open conversations (the channels' subscribers are told).
pub async fn deactivate_agent(hub: &Hub, email: &str) -> Result<Deactivated, TeamError> {
    let (email, row) = find_agent(hub, email).await?;
    let now = baton_shared::clock::now();
    let id = row.id.clone();
    hub.change_workspace(
        vec![
            Write::SetAgentActive {
                id: id.clone(),
                active: false,
            },
            Write::DeleteSessionsOf { agent: id.clone() },
            Write::RevokeApiTokensOf { agent: id.clone() },
        ],
        |doc, current| {
            if let Some(agent) = current.agent(&id) {
                let mut agent = agent.clone();
                agent.active = false;
                workspace::put_agent(doc, &agent, now)?;
            }
            Ok(())
        },
    )
    .await?;
    let mut unassigned = 0;
    for conversation in hub.store.open_conversations_of(&id).await? {
        let (fixed, _) = hub
            .change_conversation(conversation.document, |doc, workspace| {
                correct(doc, workspace, baton_shared::clock::now())
            })
            .await?;
        unassigned += usize::from(!fixed.is_empty());
    }
    Ok(Deactivated {
        id,
        email,
        unassigned,
    })
}

/// A new channel and its ingest secret (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct NewChannel {
    pub id: ChannelId,
    pub name: String,
    pub secret: String,
}

/// Adds a channel; every active agent is signed up for its notifications.
pub async fn add_channel(hub: &Hub, name: &str, kind: &str) -> Result<NewChannel, TeamError> {
    let name = check_name("a channel name", name)?;
    let id = ChannelId::random();
    let secret = secrets::new_token("bsec_");
    let row = ChannelRow {
        id: id.clone(),
        name: name.clone(),
        secret_hash: secrets::token_hash(&secret),
    };
    let channel = Channel {
        id: id.clone(),
        name: name.clone(),
        kind: kind.to_owned(),
    };
    let now = baton_shared::clock::now();
    hub.change_workspace(vec![Write::Channel(row)], |doc, current| {
        workspace::put_channel(doc, &channel, now)?;
        for agent in current.agents.values().filter(|a| a.active) {
            workspace::set_subscription(doc, &agent.id, &id, true, now)?;
        }
        Ok(())
    })
    .await?;
    Ok(NewChannel { id, name, secret })
}

/// Creates an API token that acts as the agent with `email`.
pub async fn create_token(hub: &Hub, email: &str) -> Result<(AgentId, String), TeamError> {
    let (email, row) = find_agent(hub, email).await?;
    if !row.active {
        return Err(TeamError::Invalid(format!("{email} is deactivated")));
    }
    let token = secrets::new_token("btok_");
    hub.store
        .commit(vec![Write::ApiToken {
            token_hash: secrets::token_hash(&token),
            agent: row.id.clone(),
            created_at: baton_shared::clock::now(),
        }])
        .await?;
    Ok((row.id, token))
}
