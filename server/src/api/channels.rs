//! Customer messages in, agents' replies out, authenticated by the channel's
//! ingest secret.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use baton_shared::ids::ChannelId;

use super::ApiJson;
use crate::AppState;
use crate::auth::bearer;
use crate::error::ApiError;
use crate::ingest::{self, Incoming, IngestError};
use crate::secrets::token_hash;
use crate::store::ChannelRow;

async fn channel(state: &AppState, parts: &Parts, id: &str) -> Result<ChannelRow, ApiError> {
    let unknown = || ApiError::not_found(format!("no channel {id:?}"));
    let id: ChannelId = id.parse().map_err(|_| unknown())?;
    let row = state.hub.reads().channel(&id).await?.ok_or_else(unknown)?;
    let secret = bearer(parts).ok_or_else(|| {
        ApiError::unauthorized("send the channel's ingest secret as Authorization: Bearer <secret>")
    })?;
    if token_hash(&secret) != row.secret_hash {
        return Err(ApiError::forbidden("wrong ingest secret for this channel"));
    }
    Ok(row)
}

pub async fn ingest(
    State(state): State<AppState>,
    Path(id): Path<String>,
    parts: Parts,
    ApiJson(incoming): ApiJson<Incoming>,
) -> Result<(StatusCode, Json<ingest::Landed>), ApiError> {
    let channel = channel(&state, &parts, &id).await?;
    match ingest::receive(&state.hub, &channel.id, &incoming).await {
        Ok((landed, _)) => Ok((StatusCode::CREATED, Json(landed))),
        Err(IngestError::Invalid(message)) => Err(ApiError::bad_request(message)),
        Err(err @ IngestError::UnknownConversation(_)) => Err(ApiError::not_found(err.to_string())),
        Err(IngestError::Hub(err)) => Err(err.into()),
    }
}

pub async fn replies(
    State(state): State<AppState>,
    Path(id): Path<String>,
    parts: Parts,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let channel = channel(&state, &parts, &id).await?;
    let after = match query.get("after") {
        None => 0,
        Some(text) => text.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("after must be a sequence number, not {text:?}"))
        })?,
    };
    let limit = super::conversations::parse_limit(query.get("limit"))?;
    let replies = state
        .hub
        .reads()
        .replies_after(&channel.id, after, limit)
        .await?;
    let next = replies.last().map_or(after, |r| r.seq);
    Ok(Json(
        serde_json::json!({ "replies": replies, "next": next }),
    ))
}
