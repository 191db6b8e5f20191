//! The conversation list: views, channel and status filters, search, paging.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use baton_shared::ids::{ChannelId, ConversationId};
use baton_shared::model::Millis;

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::store::{ConversationQuery, View};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

pub fn parse_limit(text: Option<&String>) -> Result<u32, ApiError> {
    match text {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "limit must be a number from 1 to {MAX_LIMIT}, not {text:?}"
            ))),
        },
    }
}

fn encode_cursor(at: Millis, id: &ConversationId) -> String {
    URL_SAFE_NO_PAD.encode(format!("{at}:{id}"))
}

fn decode_cursor(text: &str) -> Result<(Millis, ConversationId), ApiError> {
    let bad = || {
        ApiError::bad_request("cursor is not one this server gave out; start from the first page")
    };
    let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (at, id) = text.split_once(':').ok_or_else(bad)?;
    Ok((
        at.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    for key in query.keys() {
        if !["view", "channel", "status", "q", "limit", "cursor"].contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!("unknown parameter {key:?}")));
        }
    }
    let view = match query.get("view").map(String::as_str) {
        None | Some("all") => View::All,
        Some("unassigned") => View::Unassigned,
        Some("mine") => View::Mine,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "view must be unassigned, mine or all, not {other:?}"
            )));
        }
    };
    let status = match query.get("status").map(String::as_str) {
        None | Some("open") => "open",
        Some("resolved") => "resolved",
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "status must be open or resolved, not {other:?}"
            )));
        }
    };
    let channel = match query.get("channel").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => {
            let id: ChannelId = text
                .parse()
                .map_err(|e| ApiError::bad_request(format!("channel: {e}")))?;
            if state.hub.reads().channel(&id).await?.is_none() {
                return Err(ApiError::not_found(format!("no channel {text:?}")));
            }
            Some(id)
        }
    };
    let search = query
        .get("q")
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    if search.as_ref().is_some_and(|q| q.len() > 200) {
        return Err(ApiError::bad_request("q is over 200 characters"));
    }
    let limit = parse_limit(query.get("limit"))?;
    let after = query.get("cursor").map(|c| decode_cursor(c)).transpose()?;
    let request = ConversationQuery {
        view,
        agent: caller.agent.id.clone(),
        channel: channel.clone(),
        status: status.to_owned(),
        search,
        limit: limit + 1,
        after,
    };
    let mut rows = state.hub.reads().conversations(&request).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| {
            rows.last()
                .map(|r| encode_cursor(r.last_activity_at, &r.id))
        })
        .flatten();
    let counts = state
        .hub
        .reads()
        .counts(&caller.agent.id, channel.as_ref())
        .await?;
    Ok(Json(serde_json::json!({
        "conversations": rows,
        "next_cursor": next_cursor,
        "counts": counts,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id: ConversationId = "cnv_abc".parse().unwrap();
        let cursor = encode_cursor(42, &id);
        assert_eq!(decode_cursor(&cursor).unwrap(), (42, id));
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("nope")).is_err());
    }
}
