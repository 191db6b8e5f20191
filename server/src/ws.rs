//! `GET /sync`: the live websocket (DESIGN §5). The upgrade checks who is
//! calling (session cookie, `?token=` or a bearer token) and where the page
//! came from (the Origin allowlist); `sync::connection` speaks the protocol.

mod connection;
mod limits;

pub use limits::Limits;

use std::collections::HashMap;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::request::Parts;
use axum::response::Response;
use baton_shared::model::Role;
use baton_shared::validate::Principal;

use futures_util::StreamExt;

use crate::AppState;
use crate::auth::{Caller, Credential, authenticate, bearer, session_cookie};
use crate::error::ApiError;
use crate::origin::origin_allowed;

/// Read buffer of each socket: peers send small sync messages, and a larger
/// frame is still read whole (in reads of this size).
const READ_BUFFER: usize = 4 * 1024;
/// Write buffer of each socket: frames fed in one round are written together
/// once they pass this.
const WRITE_BUFFER: usize = 8 * 1024;

pub async fn upgrade(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    parts: Parts,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if !origin_allowed(header(ORIGIN), header(HOST), &state.origins) {
        tracing::info!(origin = ?header(ORIGIN), "refused a socket from another origin");
        return Err(ApiError::forbidden(
            "this origin may not open the sync socket",
        ));
    }
    let credential = if let Some(token) = query.get("token") {
        Credential::ApiToken(token.clone())
    } else if let Some(token) = bearer(&parts) {
        Credential::ApiToken(token)
    } else if let Some(token) = session_cookie(&parts) {
        Credential::Session(token)
    } else {
        return Err(ApiError::unauthorized(
            "sign in before opening the sync socket",
        ));
    };
    let caller: Caller = authenticate(&state, credential).await?;
    if state.hub.connections().count_of(&caller.agent.id) >= state.limits.max_connections_per_agent
    {
        return Err(ApiError::new(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_connections",
            format!(
                "this account already has {} live connections; close a tab and reload",
                state.limits.max_connections_per_agent
            ),
        ));
    }
    let principal = match (&caller.credential, caller.agent.role) {
        (Credential::ApiToken(_), _) => Principal::Integration(caller.agent.id.clone()),
        (Credential::Session(_), Role::Admin) => Principal::Admin(caller.agent.id.clone()),
        (Credential::Session(_), Role::Agent) => Principal::Agent(caller.agent.id.clone()),
    };
    let limits = state.limits;
    let tracker = state.tasks.clone();
    // Small socket buffers: tungstenite reserves 128 KiB each way per
    // connection by default, and an idle connection keeps its read buffer;
    // larger frames still pass (these are chunk sizes, not limits).
    // docs/benchmarks.md has what it saved.
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(limits.max_frame)
        .max_frame_size(limits.max_frame)
        .on_upgrade(move |socket| async move {
            let (sink, stream) = socket.split();
            tracker
                .track_future(connection::serve(sink, stream, state, caller, principal))
                .await;
        }))
}
