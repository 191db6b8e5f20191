//! Validation of a change to the workspace document: admins change anything
//! (workflows and business hours included); an agent changes only their own
//! subscriptions and away state.

use automerge::AutoCommit;

use super::{Context, Violation, check_size};
use crate::limits;
use crate::workspace::{Workspace, read};

pub(super) fn check(
    before_doc: &AutoCommit,
    after_doc: &AutoCommit,
    ctx: &Context<'_>,
) -> Result<(), Violation> {
    let after = read(after_doc).map_err(Violation::malformed)?;
    check_limits(&after)?;
    if ctx.principal.is_admin() {
        return Ok(());
    }
    let before = read(before_doc).map_err(Violation::malformed)?;
    let Some(me) = ctx.principal.agent() else {
        return Err(admin_only("the workspace"));
    };
    // Put back what the agent may change; anything else that differs is refused.
    let mut rest = after.clone();
    match before.subscriptions.get(me) {
        Some(mine) => rest.subscriptions.insert(me.clone(), mine.clone()),
        None => rest.subscriptions.remove(me),
    };
    if let (Some(agent), Some(was)) = (rest.agents.get_mut(me), before.agents.get(me)) {
        agent.away = was.away;
    }
    if rest.settings != before.settings {
        return Err(admin_only("the workspace settings"));
    }
    if rest.agents != before.agents {
        return Err(admin_only("agents"));
    }
    if rest.channels != before.channels {
        return Err(admin_only("channels"));
    }
    if rest.subscriptions != before.subscriptions {
        return Err(admin_only("another agent's subscriptions"));
    }
    if rest.workflows != before.workflows {
        return Err(admin_only("workflows"));
    }
    Ok(())
}

fn admin_only(what: &str) -> Violation {
    Violation::AdminOnly {
        what: what.to_owned(),
    }
}

fn check_limits(workspace: &Workspace) -> Result<(), Violation> {
    check_size(
        "agents",
        workspace.agents.len(),
        limits::MAX_WORKSPACE_ENTRIES,
    )?;
    check_size(
        "channels",
        workspace.channels.len(),
        limits::MAX_WORKSPACE_ENTRIES,
    )?;
    for agent in workspace.agents.values() {
        check_size("an agent's name", agent.name.len(), limits::MAX_FIELD_BYTES)?;
        check_size(
            "an agent's email",
            agent.email.len(),
            limits::MAX_FIELD_BYTES,
        )?;
    }
    for channel in workspace.channels.values() {
        check_size(
            "a channel's name",
            channel.name.len(),
            limits::MAX_FIELD_BYTES,
        )?;
    }
    check_size(
        "the workspace name",
        workspace.settings.name.len(),
        limits::MAX_FIELD_BYTES,
    )?;
    check_size(
        "workflows",
        workspace.workflows.len(),
        limits::MAX_WORKFLOWS,
    )?;
    // What `put_workflow` refuses, an honest client never writes.
    for workflow in workspace.workflows.values() {
        workflow
            .check(workspace)
            .map_err(|e| Violation::malformed(format!("workflow {:?}: {e}", workflow.name)))?;
    }
    Ok(())
}
