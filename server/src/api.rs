//! The HTTP API of DESIGN §9, under `/api`.

mod agents;
mod channel_admin;
mod channels;
mod conversations;
mod notifications;
mod session;
mod workflows;

use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// Largest request body the API accepts.
pub const BODY_LIMIT: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(session::login))
        .route("/logout", post(session::logout))
        .route("/me", get(session::me))
        .route("/channels/{channel}/messages", post(channels::ingest))
        .route("/channels/{channel}/replies", get(channels::replies))
        .route("/agents", post(agents::add))
        .route("/agents/{agent}", patch(agents::change))
        .route("/agents/{agent}/deactivate", post(agents::deactivate))
        .route("/channels", post(channel_admin::add))
        .route(
            "/channels/{channel}/secret",
            post(channel_admin::rotate_secret),
        )
        .route("/conversations", get(conversations::list))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_read))
        .route("/workflows/runs", get(workflows::runs))
        .fallback(|| async { ApiError::not_found("no such API endpoint") })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// `Json<T>` whose rejections are API errors with a clear message.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(request, state).await?;
        Ok(ApiJson(value))
    }
}
