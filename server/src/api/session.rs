//! Sign in, sign out, and who am I.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::ApiJson;
use crate::AppState;
use crate::auth::{Caller, ClientIp, SESSION_COOKIE, cookie};
use crate::error::ApiError;
use crate::secrets::{new_token, token_hash, verify_password};
use crate::store::{AgentRow, Write};

#[derive(Debug, Deserialize)]
pub struct Login {
    email: String,
    password: String,
}

/// An agent as the API shows it.
#[derive(Debug, Serialize)]
pub struct AgentView {
    id: String,
    name: String,
    email: String,
    role: &'static str,
}

impl From<&AgentRow> for AgentView {
    fn from(a: &AgentRow) -> Self {
        AgentView {
            id: a.id.to_string(),
            name: a.name.clone(),
            email: a.email.clone(),
            role: a.role.as_str(),
        }
    }
}

fn too_many(seconds: u64) -> ApiError {
    let mut err = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many failed sign-ins; try again in {seconds} s"),
    );
    err.retry_after = Some(seconds);
    err
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let email = login.email.trim().to_lowercase();
    let account = format!("account:{email}");
    let address = format!("ip:{ip}");
    state.logins_by_account.check(&account).map_err(too_many)?;
    state.logins_by_ip.check(&address).map_err(too_many)?;
    let agent = state.hub.store.agent_by_email(&email).await?;
    let valid = agent
        .as_ref()
        .filter(|a| a.active)
        .filter(|a| verify_password(&login.password, &a.password_hash));
    let Some(agent) = valid else {
        state.logins_by_account.fail(&account);
        state.logins_by_ip.fail(&address);
        tracing::info!(%ip, "failed sign-in");
        return Err(ApiError::unauthorized("wrong email or password"));
    };
    state.logins_by_account.clear(&account);
    let token = new_token("bses_");
    let now = baton_shared::clock::now();
    let ttl = state.session_ttl.as_millis() as i64;
    state
        .hub
        .store
        .commit(vec![Write::Session {
            token_hash: token_hash(&token),
            agent: agent.id.clone(),
            created_at: now,
            expires_at: now + ttl,
        }])
        .await?;
    tracing::info!(agent = %agent.id, "signed in");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}",
        state.session_ttl.as_secs()
    );
    let body = serde_json::json!({
        "agent": AgentView::from(agent),
        "workspace": state.hub.workspace_id().to_string(),
    });
    Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
}

pub async fn logout(State(state): State<AppState>, parts: Parts) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&parts, SESSION_COOKIE) {
        state
            .hub
            .store
            .commit(vec![Write::DeleteSession {
                token_hash: token_hash(&token),
            }])
            .await?;
    }
    let mut headers = HeaderMap::new();
    if let Ok(value) =
        format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0").parse()
    {
        headers.insert(SET_COOKIE, value);
    }
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

pub async fn me(State(state): State<AppState>, caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "agent": AgentView::from(&caller.agent),
        "workspace": state.hub.workspace_id().to_string(),
    }))
}
