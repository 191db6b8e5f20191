//! API errors: a status and `{"error": {"code", "message"}}`. Bad input is
//! always a 4xx with a message that says what to change; a 500 means a bug or
//! a broken disk and never echoes internals.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::hub::HubError;
use crate::store::StoreError;
use crate::team::TeamError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; try again",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = seconds.to_string().parse()
        {
            response.headers_mut().insert("retry-after", value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            err if err.is_unavailable() => {
                tracing::warn!(error = %err, "the database is unavailable");
                let mut answer = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable for a moment; nothing was changed — try again",
                );
                answer.retry_after = Some(1);
                answer
            }
            other => Self::internal(other),
        }
    }
}

impl From<HubError> for ApiError {
    fn from(err: HubError) -> Self {
        match err {
            HubError::Op(op @ baton_shared::operations::OpError::ConversationFull { .. }) => {
                Self::new(StatusCode::CONFLICT, "conversation_full", op.to_string())
            }
            HubError::Op(op) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", op.to_string())
            }
            HubError::Store(store) => store.into(),
            HubError::Deactivated => Self::unauthorized("this account has been deactivated"),
            HubError::Refused(message) => Self::new(StatusCode::CONFLICT, "refused", message),
            HubError::Contended => {
                let mut answer =
                    Self::new(StatusCode::SERVICE_UNAVAILABLE, "contended", err_text());
                answer.retry_after = Some(1);
                answer
            }
            other => Self::internal(other),
        }
    }
}

fn err_text() -> String {
    HubError::Contended.to_string()
}

impl From<TeamError> for ApiError {
    fn from(err: TeamError) -> Self {
        match err {
            TeamError::Invalid(message) => Self::bad_request(message),
            err @ TeamError::DuplicateEmail(_) => {
                Self::new(StatusCode::CONFLICT, "email_taken", err.to_string())
            }
            TeamError::Refused(message) => Self::new(StatusCode::CONFLICT, "refused", message),
            err @ (TeamError::UnknownAgent(_) | TeamError::NotFound(_)) => {
                Self::not_found(err.to_string())
            }
            TeamError::Hub(err) => err.into(),
            TeamError::Password(err) => Self::internal(err),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(_) => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!(
                    "the body is over the limit of {} KiB",
                    crate::api::BODY_LIMIT / 1024
                ),
            ),
            other => Self::bad_request(format!("invalid JSON body: {}", other.body_text())),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(format!("invalid query string: {}", rejection.body_text()))
    }
}
