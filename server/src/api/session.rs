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
use crate::auth::{Caller, ClientIp, SECURE_SESSION_COOKIE, SESSION_COOKIE, session_cookie};
use crate::broadcast::Broadcast;
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

/// Whether the page signing in was served over https: then the cookie is
/// `__Host-` and `Secure`.
fn over_https(headers: &HeaderMap) -> bool {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    header("origin").is_some_and(|o| o.starts_with("https://"))
        || header("x-forwarded-proto") == Some("https")
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(login): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let email = login.email.trim().to_lowercase();
    state.logins.check(&email, ip).map_err(too_many)?;
    let agent = state.hub.reads().agent_by_email(&email).await?;
    // Every attempt costs one password hash, so timing does not tell
    // whether an account exists or is deactivated.
    let usable = agent.as_ref().filter(|a| a.active);
    let hash = usable.map_or(dummy_hash(), |a| a.password_hash.as_str());
    let matches = verify_password(&login.password, hash);
    let Some(agent) = usable.filter(|_| matches) else {
        let recorded = state.logins.fail(&email, ip);
        tracing::info!(%ip, "failed sign-in");
        if !recorded {
            return Err(too_many(60));
        }
        return Err(ApiError::unauthorized("wrong email or password"));
    };
    state.logins.succeeded(&email, ip);
    let token = new_token("bses_");
    let now = baton_shared::clock::now();
    let ttl = state.session_ttl.as_millis() as i64;
    state
        .hub
        .commit(vec![Write::Session {
            token_hash: token_hash(&token),
            agent: agent.id.clone(),
            created_at: now,
            expires_at: now + ttl,
        }])
        .await?;
    tracing::info!(agent = %agent.id, "signed in");
    let cookie = if over_https(&headers) {
        format!(
            "{SECURE_SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={}",
            state.session_ttl.as_secs()
        )
    } else {
        format!(
            "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}",
            state.session_ttl.as_secs()
        )
    };
    let body = serde_json::json!({
        "agent": AgentView::from(agent),
        "workspace": state.hub.workspace_id().to_string(),
    });
    Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Signs out: the session ends, and so do the sockets it opened.
pub async fn logout(State(state): State<AppState>, parts: Parts) -> Result<Response, ApiError> {
    if let Some(token) = session_cookie(&parts) {
        let hash = token_hash(&token);
        state
            .hub
            .commit(vec![
                Write::DeleteSession {
                    token_hash: hash.clone(),
                },
                Write::Broadcast(Broadcast::SignedOut {
                    credential: hash.clone(),
                }),
            ])
            .await?;
        state.hub.connections().end_credential(&hash);
    }
    let mut headers = HeaderMap::new();
    for clear in [
        format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"),
        format!("{SECURE_SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0"),
    ] {
        if let Ok(value) = clear.parse() {
            headers.append(SET_COOKIE, value);
        }
    }
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

/// An argon2 hash of nothing anyone types, checked when there is no
/// account to check against.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        crate::secrets::hash_password(&crate::secrets::new_token("dummy_")).unwrap_or_default()
    })
}

pub async fn me(State(state): State<AppState>, caller: Caller) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "agent": AgentView::from(&caller.agent),
        "workspace": state.hub.workspace_id().to_string(),
    }))
}
