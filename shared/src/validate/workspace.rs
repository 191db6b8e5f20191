//! Validation of a change to the workspace document. An agent changes only
//! their own away state and subscriptions (to channels that exist); an
//! admin may also change the settings and workflows. Agents and channels
//! change only through the team API, which keeps the sign-in tables and
//! the keep-an-admin rule in step with the document.

use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, Value};

use super::{Context, Violation, check_size};
use crate::ids::{AgentId, ChannelId};
use crate::limits;
use crate::workspace::{Workspace, read};

pub(super) fn check(
    before_doc: &AutoCommit,
    after_doc: &AutoCommit,
    ctx: &Context<'_>,
) -> Result<(), Violation> {
    let after = read(after_doc).map_err(Violation::malformed)?;
    check_limits(&after)?;
    if *ctx.principal == super::Principal::Server {
        return Ok(());
    }
    let before = read(before_doc).map_err(Violation::malformed)?;
    let Some(me) = ctx.principal.agent() else {
        return Err(admin_only("the workspace"));
    };
    check_subscription_keys(after_doc, me, &after)?;
    // Put back what the principal may change; anything else that differs is refused.
    let mut rest = after.clone();
    match before.subscriptions.get(me) {
        Some(mine) => rest.subscriptions.insert(me.clone(), mine.clone()),
        None => rest.subscriptions.remove(me),
    };
    if let (Some(agent), Some(was)) = (rest.agents.get_mut(me), before.agents.get(me)) {
        agent.away = was.away;
    }
    let admin = ctx.principal.is_admin();
    if admin {
        rest.settings = before.settings.clone();
        rest.workflows = before.workflows.clone();
    }
    let team_change = |what: &str| {
        if admin {
            Violation::ApiOnly {
                what: what.to_owned(),
            }
        } else {
            admin_only(what)
        }
    };
    if rest.agents != before.agents {
        return Err(team_change("agents"));
    }
    if rest.channels != before.channels {
        return Err(team_change("channels"));
    }
    if rest.subscriptions != before.subscriptions {
        return Err(team_change("another agent's subscriptions"));
    }
    if rest.settings != before.settings {
        return Err(admin_only("the workspace settings"));
    }
    if rest.workflows != before.workflows {
        return Err(admin_only("workflows"));
    }
    Ok(())
}

/// Every key of the agent's own subscriptions names a channel that exists
/// (whether on or off): keys cost every client a download.
fn check_subscription_keys(
    doc: &AutoCommit,
    me: &AgentId,
    workspace: &Workspace,
) -> Result<(), Violation> {
    let Ok(Some((Value::Object(ObjType::Map), subs))) = doc.get(ROOT, "subscriptions") else {
        return Ok(());
    };
    let Ok(Some((Value::Object(ObjType::Map), mine))) = doc.get(&subs, me.as_str()) else {
        return Ok(());
    };
    for key in doc.keys(&mine) {
        let known = key
            .parse::<ChannelId>()
            .is_ok_and(|channel| workspace.channels.contains_key(&channel));
        if !known {
            return Err(Violation::malformed(format!(
                "a subscription names {key:?}, which is not a channel of this workspace"
            )));
        }
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
        check_size(
            "a channel's kind",
            channel.kind.len(),
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
