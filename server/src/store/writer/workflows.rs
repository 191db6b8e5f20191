//! Workflow runs (unique per event), round-robin cursors and waiting times.

use sqlx::AnyConnection;

use super::super::{StoreError, Write};
use super::conflict;

pub(super) async fn apply(c: &mut AnyConnection, write: &Write) -> Result<(), StoreError> {
    match write {
        Write::WorkflowRun(run) => {
            sqlx::query(
                "INSERT INTO workflow_runs (key, workflow, workflow_name, conversation, document, \
                 event, outcome, run, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
            sqlx::query("UPDATE conversations SET unassigned_since = $1 WHERE id = $2")
                .bind(since)
                .bind(conversation.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::WorkflowCursor {
            workflow,
            agent,
            previous,
        } => {
            // A turn is taken only from the pick it was decided on: two
            // nodes deciding at once cannot both give the same turn.
            let moved = match previous {
                Some(previous) => sqlx::query(
                    "UPDATE workflow_cursors SET agent = $1 WHERE workflow = $2 AND agent = $3",
                )
                .bind(agent.as_str())
                .bind(workflow.as_str())
                .bind(previous.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected(),
                None => sqlx::query(
                    "INSERT INTO workflow_cursors (workflow, agent) VALUES ($1, $2) \
                     ON CONFLICT (workflow) DO NOTHING",
                )
                .bind(workflow.as_str())
                .bind(agent.as_str())
                .execute(&mut *c)
                .await?
                .rows_affected(),
            };
            if moved == 0 {
                return Err(StoreError::Stale(format!(
                    "the round-robin turn of workflow {workflow} moved"
                )));
            }
        }
        _ => {}
    }
    Ok(())
}
