//! Who is calling: a session cookie (the app) or an API token (integrations),
//! and the login rate limit.

mod client_ip;
mod rate_limit;

pub use client_ip::{ClientIp, TrustedProxies};
pub use rate_limit::LoginLimiter;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use baton_shared::model::{Millis, Role};

use crate::AppState;
use crate::error::ApiError;
use crate::secrets::token_hash;
use crate::store::AgentRow;

/// The session cookie's name over plain http.
pub const SESSION_COOKIE: &str = "baton_session";
/// Its name over https: the prefix makes browsers refuse it unless it is
/// `Secure`, has no `Domain` and is for `/`, so a sibling subdomain cannot
/// plant one.
pub const SECURE_SESSION_COOKIE: &str = "__Host-baton_session";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session(String),
    ApiToken(String),
}

/// An authenticated, active agent.
#[derive(Debug, Clone)]
pub struct Caller {
    pub agent: AgentRow,
    pub credential: Credential,
    /// When a session ends (API tokens are checked again instead).
    pub expires_at: Option<baton_shared::model::Millis>,
}

impl Credential {
    /// The hash the store keeps of it (names it in `Live`, never in logs).
    pub fn hash(&self) -> String {
        match self {
            Credential::Session(token) | Credential::ApiToken(token) => token_hash(token),
        }
    }
}

/// The session token a request carries, whichever cookie holds it.
pub fn session_cookie(parts: &Parts) -> Option<String> {
    cookie(parts, SECURE_SESSION_COOKIE).or_else(|| cookie(parts, SESSION_COOKIE))
}

/// The value of cookie `name` in the request, if any.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// The bearer token in `Authorization`, if any.
pub fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_owned())
}

/// Resolves a credential to an active agent.
pub async fn authenticate(state: &AppState, credential: Credential) -> Result<Caller, ApiError> {
    let store = state.hub.reads();
    let now = baton_shared::clock::now();
    let found = match &credential {
        Credential::Session(token) => store.session_agent(&token_hash(token), now).await?,
        Credential::ApiToken(token) => store
            .api_token_agent(&token_hash(token), now)
            .await?
            .map(|agent| (agent, Millis::MAX)),
    };
    let expired = || ApiError::unauthorized("sign in again: your session has ended");
    let (agent_id, expires_at) = found.ok_or_else(expired)?;
    let agent = store.agent(&agent_id).await?.ok_or_else(expired)?;
    if !agent.active {
        return Err(ApiError::unauthorized("this account has been deactivated"));
    }
    Ok(Caller {
        agent,
        credential,
        expires_at: (expires_at != Millis::MAX).then_some(expires_at),
    })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = if let Some(token) = bearer(parts) {
            Credential::ApiToken(token)
        } else if let Some(token) = session_cookie(parts) {
            Credential::Session(token)
        } else {
            return Err(ApiError::unauthorized(
                "sign in first (no session cookie or API token)",
            ));
        };
        authenticate(state, credential).await
    }
}

/// An admin signed in to the app. API tokens never carry admin rights.
#[derive(Debug, Clone)]
pub struct Admin(pub Caller);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if let Credential::ApiToken(_) = caller.credential {
            return Err(ApiError::forbidden(
                "API tokens never act as an admin; sign in to the app as an admin",
            ));
        }
        if caller.agent.role != Role::Admin {
            return Err(ApiError::forbidden(
                "only an admin may manage agents and channels",
            ));
        }
        Ok(Admin(caller))
    }
}
