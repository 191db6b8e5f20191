//! Admins add channels and rotate their ingest secrets; a secret is shown
//! once, when it is made.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use baton_shared::ids::ChannelId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiJson;
use crate::AppState;
use crate::auth::Admin;
use crate::error::ApiError;
use crate::team;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewChannelBody {
    name: String,
    #[serde(default)]
    kind: Option<String>,
}

pub async fn add(
    State(state): State<AppState>,
    _: Admin,
    ApiJson(body): ApiJson<NewChannelBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let kind = body.kind.as_deref().unwrap_or("email");
    let added = team::add_channel(&state.hub, &body.name, kind).await?;
    let channel = json!({ "id": added.id, "name": added.name, "kind": added.kind });
    Ok((
        StatusCode::CREATED,
        Json(json!({ "channel": channel, "secret": added.secret })),
    ))
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: ChannelId = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("no channel {id:?}")))?;
    let secret = team::rotate_channel_secret(&state.hub, &id).await?;
    Ok(Json(json!({ "secret": secret })))
}
