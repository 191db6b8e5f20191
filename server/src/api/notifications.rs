//! An agent's notifications and their read state.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::ApiJson;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let limit = super::conversations::parse_limit(query.get("limit"))?;
    let store = state.hub.reads();
    let rows = store.notifications(&caller.agent.id, limit).await?;
    let notifications: Vec<_> = rows
        .iter()
        .map(|n| {
            serde_json::json!({
                "id": n.id,
                "conversation": n.conversation,
                "document": n.document.to_string(),
                "kind": n.kind,
                "text": crate::notify::words(n),
                "count": n.count,
                "at": n.at,
                "read": n.read,
            })
        })
        .collect();
    let unread = store.unread_notifications(&caller.agent.id).await?;
    Ok(Json(
        serde_json::json!({ "notifications": notifications, "unread": unread }),
    ))
}

#[derive(Debug, Deserialize)]
pub struct MarkRead {
    ids: Vec<String>,
}

pub async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<MarkRead>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if let Err(why) = crate::notify::check_read_ids(&body.ids) {
        return Err(ApiError::bad_request(why));
    }
    state
        .hub
        .mark_read(&caller.agent.id, body.ids, None)
        .await?;
    let unread = state
        .hub
        .reads()
        .unread_notifications(&caller.agent.id)
        .await?;
    Ok(Json(serde_json::json!({ "unread": unread })))
}
