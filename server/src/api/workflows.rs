//! The workflow run log, for admins: which workflow fired on which
//! conversation and what it did, or why it did nothing. Workflows themselves
//! live in the workspace document and are edited over live sync.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use baton_shared::model::Role;
use baton_shared::workflow::Run;

use crate::AppState;
use crate::auth::{Caller, Credential};
use crate::error::ApiError;

pub async fn runs(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // Integration tokens act as their agent but never with admin rights.
    let admin =
        caller.agent.role == Role::Admin && matches!(caller.credential, Credential::Session(_));
    if !admin {
        return Err(ApiError::forbidden(
            "only an admin signed in to Baton may read the workflow run log",
        ));
    }
    if let Some(key) = query.keys().find(|k| k.as_str() != "limit") {
        return Err(ApiError::bad_request(format!("unknown parameter {key:?}")));
    }
    let limit = super::conversations::parse_limit(query.get("limit"))?;
    let workspace = state.hub.workspace().await?;
    let rows = state.hub.reads().workflow_runs(limit).await?;
    let runs: Vec<_> = rows
        .iter()
        .map(|row| {
            let run: Option<Run> = serde_json::from_str(&row.run).ok();
            let name = workspace
                .workflows
                .get(&row.workflow)
                .map_or(row.workflow_name.as_str(), |w| w.name.as_str());
            serde_json::json!({
                "key": row.key,
                "at": row.at,
                "workflow": { "id": row.workflow, "name": name },
                "conversation": row.conversation,
                "document": row.document.to_string(),
                "event": row.event,
                "outcome": row.outcome,
                "detail": run.as_ref().map(|r| r.describe(&workspace)).unwrap_or_default(),
                "result": run.map(|r| r.outcome),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "runs": runs })))
}
