//! The server's HTTP API, as the app uses it.

use baton_shared::ids::{AgentId, ChannelId, DocumentId};
use baton_shared::model::Millis;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Why a call failed, in words for the agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The network or server cannot be reached (offline).
    #[error("The server cannot be reached. Check your connection.")]
    Unreachable,
    /// Not signed in (or the session ended).
    #[error("Your session has ended. Sign in again.")]
    SignedOut,
    /// The server refused, with its message.
    #[error("{message}")]
    Refused { status: u16, message: String },
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: String,
}

async fn answer<T: DeserializeOwned>(
    response: Result<Response, gloo_net::Error>,
) -> Result<T, ApiError> {
    let response = response.map_err(|_| ApiError::Unreachable)?;
    let status = response.status();
    if status == 401 {
        return Err(ApiError::SignedOut);
    }
    if !response.ok() {
        // A proxy's or service worker's "offline" page is not the server speaking.
        let message = match response.json::<ErrorBody>().await {
            Ok(body) => body.error.message,
            Err(_) if status >= 500 || status == 0 => return Err(ApiError::Unreachable),
            Err(_) => format!("The server answered {status}."),
        };
        return Err(ApiError::Refused { status, message });
    }
    if status == 204 {
        return serde_json::from_str("null").map_err(|_| ApiError::Unreachable);
    }
    response.json::<T>().await.map_err(|e| ApiError::Refused {
        status,
        message: format!("The server sent an answer this app does not understand ({e})."),
    })
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    request: RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    match request.json(body) {
        Ok(request) => answer(request.send().await).await,
        Err(_) => Err(ApiError::Unreachable),
    }
}

/// The signed-in agent, as `/api/me` tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub agent: MeAgent,
    pub workspace: DocumentId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeAgent {
    pub id: AgentId,
    pub name: String,
    pub email: String,
    pub role: String,
}

pub async fn me() -> Result<Me, ApiError> {
    answer(Request::get("/api/me").send().await).await
}

pub async fn login(email: &str, password: &str) -> Result<(), ApiError> {
    let body = serde_json::json!({ "email": email, "password": password });
    let _: serde_json::Value = send_json(Request::post("/api/login"), &body).await?;
    Ok(())
}

pub async fn logout() -> Result<(), ApiError> {
    let _: serde_json::Value = answer(Request::post("/api/logout").send().await).await?;
    Ok(())
}

/// One stored notification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredNotification {
    pub id: String,
    pub document: DocumentId,
    pub text: String,
    pub count: u32,
    pub at: Millis,
    pub read: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NotificationList {
    pub notifications: Vec<StoredNotification>,
    pub unread: u64,
}

pub async fn notifications() -> Result<NotificationList, ApiError> {
    answer(Request::get("/api/notifications?limit=100").send().await).await
}

pub async fn mark_read(ids: &[String]) -> Result<(), ApiError> {
    let body = serde_json::json!({ "ids": ids });
    let _: serde_json::Value = send_json(Request::post("/api/notifications/read"), &body).await?;
    Ok(())
}

/// An agent just added: the initial password is shown once.
#[derive(Debug, Clone, Deserialize)]
pub struct NewAgent {
    pub password: String,
}

pub async fn add_agent(
    name: &str,
    email: &str,
    role: &str,
    capacity: Option<u32>,
) -> Result<NewAgent, ApiError> {
    let body =
        serde_json::json!({ "name": name, "email": email, "role": role, "capacity": capacity });
    send_json(Request::post("/api/agents"), &body).await
}

pub async fn update_agent(id: &AgentId, change: &serde_json::Value) -> Result<(), ApiError> {
    let _: serde_json::Value =
        send_json(Request::patch(&format!("/api/agents/{id}")), change).await?;
    Ok(())
}

pub async fn deactivate_agent(id: &AgentId) -> Result<(), ApiError> {
    let _: serde_json::Value = answer(
        Request::post(&format!("/api/agents/{id}/deactivate"))
            .send()
            .await,
    )
    .await?;
    Ok(())
}

/// A secret the server shows once.
#[derive(Debug, Clone, Deserialize)]
pub struct Secret {
    pub secret: String,
}

pub async fn add_channel(name: &str, kind: &str) -> Result<Secret, ApiError> {
    let body = serde_json::json!({ "name": name, "kind": kind });
    send_json(Request::post("/api/channels"), &body).await
}

pub async fn rotate_secret(channel: &ChannelId) -> Result<Secret, ApiError> {
    answer(
        Request::post(&format!("/api/channels/{channel}/secret"))
            .send()
            .await,
    )
    .await
}

/// One line of the workflow run log.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    pub at: Millis,
    pub workflow: RunWorkflow,
    pub document: DocumentId,
    pub event: String,
    pub outcome: String,
    pub detail: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunWorkflow {
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct RunList {
    runs: Vec<WorkflowRun>,
}

pub async fn workflow_runs() -> Result<Vec<WorkflowRun>, ApiError> {
    let list: RunList = answer(Request::get("/api/workflows/runs?limit=50").send().await).await?;
    Ok(list.runs)
}
