//! Who is calling: a session cookie (the app) or an API token (integrations),
//! and the login rate limit.

mod rate_limit;

pub use rate_limit::RateLimiter;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use baton_shared::model::Role;
use std::net::{IpAddr, SocketAddr};

use crate::AppState;
use crate::error::ApiError;
use crate::secrets::token_hash;
use crate::store::AgentRow;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "baton_session";

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
    let store = &state.hub.store;
    let agent_id = match &credential {
        Credential::Session(token) => {
            store
                .session_agent(&token_hash(token), baton_shared::clock::now())
                .await?
        }
        Credential::ApiToken(token) => store.api_token_agent(&token_hash(token)).await?,
    };
    let expired = || ApiError::unauthorized("sign in again: your session has ended");
    let agent_id = agent_id.ok_or_else(expired)?;
    let agent = store.agent(&agent_id).await?.ok_or_else(expired)?;
    if !agent.active {
        return Err(ApiError::unauthorized("this account has been deactivated"));
    }
    Ok(Caller { agent, credential })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = if let Some(token) = bearer(parts) {
            Credential::ApiToken(token)
        } else if let Some(token) = cookie(parts, SESSION_COOKIE) {
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

/// The client's IP address (for rate limits).
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
        Ok(ClientIp(ip))
    }
}
