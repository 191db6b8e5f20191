//! Admins manage the team: add an agent (with a password shown once),
//! rename them, change their role or capacity, deactivate them. The agents
//! themselves are read from the workspace document the app syncs.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use baton_shared::ids::AgentId;
use baton_shared::model::{Agent, Role};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use super::ApiJson;
use crate::AppState;
use crate::auth::Admin;
use crate::error::ApiError;
use crate::team::{self, AgentChange};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAgentBody {
    name: String,
    email: String,
    role: Role,
    #[serde(default)]
    capacity: Option<u32>,
}

pub async fn add(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(body): ApiJson<NewAgentBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let added = team::add_agent(
        &state.hub,
        &body.email,
        &body.name,
        body.role,
        None,
        body.capacity,
    )
    .await?;
    let agent = Agent {
        id: added.id,
        name: added.name,
        email: added.email,
        role: added.role,
        active: true,
        away: false,
        capacity: added.capacity,
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "agent": agent, "password": added.password })),
    ))
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<Role>,
    #[serde(default, deserialize_with = "present")]
    capacity: Option<Option<u32>>,
}

fn agent_id(text: &str) -> Result<AgentId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::not_found(format!("no agent {text:?}")))
}

pub async fn change(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<AgentPatch>,
) -> Result<Json<Value>, ApiError> {
    let id = agent_id(&id)?;
    if patch.name.is_none() && patch.role.is_none() && patch.capacity.is_none() {
        return Err(ApiError::bad_request(
            "send at least one of name, role or capacity",
        ));
    }
    let change = AgentChange {
        name: patch.name,
        role: patch.role,
        capacity: patch.capacity,
    };
    let agent = team::change_agent(&state.hub, &id, change).await?;
    Ok(Json(json!({ "agent": agent })))
}

pub async fn deactivate(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = agent_id(&id)?;
    if id == caller.agent.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "refused",
            "you cannot deactivate your own account; ask another admin",
        ));
    }
    let done = team::deactivate(&state.hub, &id).await?;
    let agent = state.hub.workspace().await?.agent(&id).cloned();
    Ok(Json(
        json!({ "agent": agent, "unassigned": done.unassigned }),
    ))
}
