//! Workflow runs (unique per event), round-robin cursors and waiting times.

use sqlx::SqliteConnection;

use super::super::{StoreError, Write};
use super::conflict;

pub(super) async fn apply(c: &mut SqliteConnection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::WorkflowRun(run) => {
            sqlx::query(
                "INSERT INTO workflow_runs (key, workflow, workflow_name, conversation, document, \
                 event, outcome, run, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&run.key)
            .bind(run.workflow.as_str())
            .bind(&run.workflow_name)
            .bind(run.conversation.as_str())
            .bind(run.document.to_string())
            .bind(&run.event)
            .bind(&run.outcome)
            .bind(&run.run)
            .bind(run.at)
            .execute(&mut *c)
            .await
            .map_err(|e| conflict(e, &format!("workflow run {}", run.key)))?;
        }
        Write::UnassignedSince {
            conversation,
            since,
        } => {
            sqlx::query("UPDATE conversations SET unassigned_since = ? WHERE id = ?")
                .bind(since)
                .bind(conversation.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::WorkflowCursor { workflow, agent } => {
            sqlx::query(
                "INSERT INTO workflow_cursors (workflow, agent) VALUES (?, ?) \
                 ON CONFLICT (workflow) DO UPDATE SET agent = excluded.agent",
            )
            .bind(workflow.as_str())
            .bind(agent.as_str())
            .execute(&mut *c)
            .await?;
        }
        _ => {}
    }
    Ok(())
}
