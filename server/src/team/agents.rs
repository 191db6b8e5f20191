//! Agents: adding one, changing their name, role or capacity, and
//! deactivating one; the team always keeps an active admin.

use baton_shared::ids::AgentId;
use baton_shared::model::{Agent, Role};
use baton_shared::operations::correct;
use baton_shared::workspace::{self, Workspace};
use serde::Serialize;

use super::{TeamError, check_name, find_agent};
use crate::broadcast::{Broadcast, Ending};
use crate::hub::{Hub, HubError};
use crate::secrets;
use crate::store::{AgentRow, Write};

/// The agent with `id`, or a clear error.
async fn agent_row(hub: &Hub, id: &AgentId) -> Result<AgentRow, TeamError> {
    hub.reads()
        .agent(id)
        .await?
        .ok_or_else(|| TeamError::NotFound(format!("no agent {id}")))
}

/// Refuses a change that would leave no active admin. Checked inside the
/// workspace change itself, against the workspace as it is when the change
/// commits: two admins demoting each other at once, on any nodes, leave one.
fn keep_an_admin(current: &Workspace, id: &AgentId, change: &str) -> Result<(), HubError> {
    let others = current
        .agents
        .values()
        .filter(|a| &a.id != id && a.active && a.role == Role::Admin)
        .count();
    if others == 0 {
        return Err(HubError::Refused(format!(
            "cannot {change}: they are the last active admin; make another agent an admin first"
        )));
    }
    Ok(())
}

/// A new agent and the password to give them (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct NewAgent {
    pub id: AgentId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub capacity: Option<u32>,
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

fn check_capacity(capacity: Option<u32>) -> Result<Option<u32>, TeamError> {
    if capacity == Some(0) {
        return Err(TeamError::Invalid(
            "capacity must be at least 1, or null for no limit".to_owned(),
        ));
    }
    Ok(capacity)
}

/// Adds an agent (signed up for notifications on every channel).
pub async fn add_agent(
    hub: &Hub,
    email: &str,
    name: &str,
    role: Role,
    password: Option<&str>,
    capacity: Option<u32>,
) -> Result<NewAgent, TeamError> {
    let email = check_email(email)?;
    let name = check_name("a name", name)?;
    let capacity = check_capacity(capacity)?;
    if hub.reads().agent_by_email(&email).await?.is_some() {
        return Err(TeamError::DuplicateEmail(email));
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
        capacity,
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
        capacity,
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

/// Deactivates the agent with `email`; see [`deactivate`].
pub async fn deactivate_agent(hub: &Hub, email: &str) -> Result<Deactivated, TeamError> {
    let (_, row) = find_agent(hub, email).await?;
    deactivate(hub, &row.id).await
}

/// Deactivates an agent: revokes their sessions and tokens, closes their
/// live sockets and unassigns their open conversations (the channels'
/// subscribers are told). The last active admin cannot be deactivated.
pub async fn deactivate(hub: &Hub, id: &AgentId) -> Result<Deactivated, TeamError> {
    let row = agent_row(hub, id).await?;
    let email = row.email.clone();
    let now = baton_shared::clock::now();
    let id = row.id.clone();
    let why = format!("deactivate {email}");
    hub.change_workspace(
        vec![
            Write::SetAgentActive {
                id: id.clone(),
                active: false,
            },
            Write::DeleteSessionsOf { agent: id.clone() },
            Write::RevokeApiTokensOf { agent: id.clone() },
            Write::Broadcast(Broadcast::Ended {
                agent: id.clone(),
                why: Ending::Deactivated,
            }),
        ],
        |doc, current| {
            if let Some(agent) = current.agent(&id) {
                if agent.active && agent.role == Role::Admin {
                    keep_an_admin(current, &id, &why)?;
                }
                let mut agent = agent.clone();
                agent.active = false;
                workspace::put_agent(doc, &agent, now)?;
            }
            Ok(())
        },
    )
    .await?;
    hub.connections().end(&id, Ending::Deactivated);
    let mut unassigned = 0;
    for conversation in hub.reads().open_conversations_of(&id).await? {
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

/// What an admin changes about an agent; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AgentChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// `Some(None)` removes the limit.
    pub capacity: Option<Option<u32>>,
}

/// Renames an agent, changes their role or capacity. Demoting the last
/// active admin is refused; a role change closes the agent's live sockets so
/// they reconnect with their new rights.
pub async fn change_agent(
    hub: &Hub,
    id: &AgentId,
    change: AgentChange,
) -> Result<Agent, TeamError> {
    let name = change
        .name
        .as_deref()
        .map(|name| check_name("a name", name))
        .transpose()?;
    let capacity = change.capacity.map(check_capacity).transpose()?;
    let row = agent_row(hub, id).await?;
    if !row.active {
        return Err(TeamError::Refused(format!(
            "{} is deactivated and can no longer be changed",
            row.email
        )));
    }
    let now = baton_shared::clock::now();
    let (before, agent) = hub
        .change_workspace_with(|doc, current| {
            let before = current.agent(id).cloned().ok_or_else(|| {
                HubError::Refused(format!("agent {id} is missing from the workspace"))
            })?;
            let mut agent = before.clone();
            if let Some(name) = &name {
                agent.name = name.clone();
            }
            if let Some(role) = change.role {
                agent.role = role;
            }
            if let Some(capacity) = capacity {
                agent.capacity = capacity;
            }
            if agent == before {
                return Ok(((before, agent), Vec::new()));
            }
            if before.role == Role::Admin && agent.role != Role::Admin {
                keep_an_admin(current, id, &format!("demote {}", agent.email))?;
            }
            workspace::put_agent(doc, &agent, now)?;
            let writes = agent_writes(&before, &agent);
            Ok(((before, agent), writes))
        })
        .await?;
    if agent.role != before.role {
        hub.connections().end(id, Ending::RoleChanged);
    }
    Ok(agent)
}

/// The agent's row as authentication reads it and, for a new role, the
/// end of their sockets on every node (they reconnect with their new rights).
fn agent_writes(before: &Agent, agent: &Agent) -> Vec<Write> {
    let mut writes = vec![Write::UpdateAgent {
        id: agent.id.clone(),
        name: agent.name.clone(),
        role: agent.role,
    }];
    if agent.role != before.role {
        writes.push(Write::Broadcast(Broadcast::Ended {
            agent: agent.id.clone(),
            why: Ending::RoleChanged,
        }));
    }
    writes
}
