//! Writers for the workspace's workflows (admin only; `validate` refuses
//! anyone else's change). Each call is one change; a workflow is always
//! written whole, so two admins saving the same workflow at once leave one
//! of the two versions, never a mix.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};

use super::{key, read};
use crate::doc_io::commit_options;
use crate::error::OpError;
use crate::ids::WorkflowId;
use crate::limits;
use crate::model::Millis;
use crate::workflow::{Workflow, WorkflowError, stored};

/// The `workflows` map, created when the document predates workflows.
fn workflows_map(doc: &mut AutoCommit) -> Result<ObjId, OpError> {
    match doc.get(ROOT, key::WORKFLOWS)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Ok(doc.put_object(ROOT, key::WORKFLOWS, ObjType::Map)?),
    }
}

/// Adds the `workflows` map to a workspace document made before workflows
/// existed; `true` if it made a change. The server does this once at start,
/// so two admins' first workflows never create competing maps.
pub fn ensure_workflows(doc: &mut AutoCommit, at: Millis) -> Result<bool, OpError> {
    if matches!(
        doc.get(ROOT, key::WORKFLOWS)?,
        Some((Value::Object(ObjType::Map), _))
    ) {
        return Ok(false);
    }
    doc.put_object(ROOT, key::WORKFLOWS, ObjType::Map)?;
    doc.commit_with(commit_options("add workflows", at));
    Ok(true)
}

/// Adds `workflow`, or replaces the one with its id (a rename, new
/// conditions or steps, enabling…). Refused with a reason when it names an
/// unknown agent or channel, or is incomplete (see [`Workflow::check`]).
pub fn put_workflow(doc: &mut AutoCommit, workflow: &Workflow, at: Millis) -> Result<(), OpError> {
    let workspace = read(doc)?;
    workflow.check(&workspace)?;
    if !workspace.workflows.contains_key(&workflow.id)
        && workspace.workflows.len() >= limits::MAX_WORKFLOWS
    {
        return Err(WorkflowError::TooMany {
            max: limits::MAX_WORKFLOWS,
        }
        .into());
    }
    let map = workflows_map(doc)?;
    stored::write_one(doc, &map, workflow)?;
    doc.commit_with(commit_options("put workflow", at));
    Ok(())
}

/// Enables or disables a workflow without rewriting the rest of it.
pub fn set_workflow_enabled(
    doc: &mut AutoCommit,
    id: &WorkflowId,
    enabled: bool,
    at: Millis,
) -> Result<(), OpError> {
    let obj = workflow_obj(doc, id)?;
    doc.put(&obj, "enabled", enabled)?;
    doc.commit_with(commit_options("enable workflow", at));
    Ok(())
}

/// Deletes a workflow. Its past runs stay in the server's run log.
pub fn delete_workflow(doc: &mut AutoCommit, id: &WorkflowId, at: Millis) -> Result<(), OpError> {
    workflow_obj(doc, id)?;
    let map = workflows_map(doc)?;
    doc.delete(&map, id.as_str())?;
    doc.commit_with(commit_options("delete workflow", at));
    Ok(())
}

/// Puts the workflows in the order of `ids`, which must list each existing
/// workflow exactly once. Only the `order` of those that move is written.
pub fn reorder_workflows(
    doc: &mut AutoCommit,
    ids: &[WorkflowId],
    at: Millis,
) -> Result<(), OpError> {
    let workspace = read(doc)?;
    let mut listed: Vec<&WorkflowId> = ids.iter().collect();
    listed.sort();
    listed.dedup();
    if listed.len() != ids.len() || !listed.iter().copied().eq(workspace.workflows.keys()) {
        return Err(WorkflowError::Order.into());
    }
    for (order, id) in ids.iter().enumerate() {
        let order = u32::try_from(order).unwrap_or(u32::MAX);
        if workspace
            .workflows
            .get(id)
            .is_some_and(|w| w.order != order)
        {
            let obj = workflow_obj(doc, id)?;
            doc.put(&obj, "order", i64::from(order))?;
        }
    }
    doc.commit_with(commit_options("reorder workflows", at));
    Ok(())
}

/// The workflow's map; never writes, so a refusal leaves nothing pending.
fn workflow_obj(doc: &AutoCommit, id: &WorkflowId) -> Result<ObjId, OpError> {
    let unknown = || OpError::from(WorkflowError::Unknown(id.clone()));
    let Some((Value::Object(ObjType::Map), map)) = doc.get(ROOT, key::WORKFLOWS)? else {
        return Err(unknown());
    };
    match doc.get(&map, id.as_str())? {
        Some((Value::Object(ObjType::Map), obj)) => Ok(obj),
        _ => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AgentId, ChannelId};
    use crate::model::{Agent, Channel, Role};
    use crate::workflow::{Condition, Step, Trigger};
    use crate::workspace::{create, put_agent, put_channel};

    fn doc() -> (AutoCommit, AgentId, ChannelId) {
        let mut doc = create("Acme", 1).unwrap();
        let ana: AgentId = "agt_ana".parse().unwrap();
        let billing: ChannelId = "chn_billing".parse().unwrap();
        let agent = Agent {
            id: ana.clone(),
            name: "Ana".to_owned(),
            email: "ana@acme.test".to_owned(),
            role: Role::Agent,
            active: true,
            away: false,
            capacity: Some(10),
        };
        put_agent(&mut doc, &agent, 2).unwrap();
        let channel = Channel {
            id: billing.clone(),
            name: "Billing".to_owned(),
            kind: "email".to_owned(),
        };
        put_channel(&mut doc, &channel, 3).unwrap();
        (doc, ana, billing)
    }

    fn billing_workflow(doc: &AutoCommit, ana: &AgentId, billing: &ChannelId) -> Workflow {
        let mut workflow = Workflow::new("Billing", Trigger::CustomerMessage, &read(doc).unwrap());
        workflow.conditions = vec![
            Condition::ChannelIn {
                channels: vec![billing.clone()],
            },
            Condition::EmailDomain {
                domains: vec!["@Acme.com".to_owned()],
            },
            Condition::OutsideBusinessHours,
        ];
        workflow.steps = vec![
            Step::RoundRobin {
                agents: vec![ana.clone()],
            },
            Step::Note {
                body: "Routed by the billing workflow".to_owned(),
            },
        ];
        workflow
    }

    #[test]
    fn a_workflow_reads_back_exactly_as_written() {
        let (mut doc, ana, billing) = doc();
        let workflow = billing_workflow(&doc, &ana, &billing);
        put_workflow(&mut doc, &workflow, 4).unwrap();
        let workspace = read(&doc).unwrap();
        let mut expected = workflow.clone();
        expected.conditions[1] = Condition::EmailDomain {
            domains: vec!["acme.com".to_owned()],
        };
        assert_eq!(workspace.workflows.get(&workflow.id), Some(&expected));

        let mut renamed = expected.clone();
        renamed.name = "Billing (EU)".to_owned();
        renamed.trigger = Trigger::UnassignedFor { minutes: 30 };
        renamed.steps = vec![Step::Assign { agent: ana.clone() }, Step::Unassign];
        put_workflow(&mut doc, &renamed, 5).unwrap();
        set_workflow_enabled(&mut doc, &renamed.id, false, 6).unwrap();
        renamed.enabled = false;
        assert_eq!(read(&doc).unwrap().workflows[&renamed.id], renamed);
    }

    #[test]
    fn reorder_and_delete() {
        let (mut doc, ana, billing) = doc();
        let first = billing_workflow(&doc, &ana, &billing);
        put_workflow(&mut doc, &first, 4).unwrap();
        let second = billing_workflow(&doc, &ana, &billing);
        put_workflow(&mut doc, &second, 5).unwrap();
        let order = |doc: &AutoCommit| -> Vec<WorkflowId> {
            let workspace = read(doc).unwrap();
            workspace
                .workflows_in_order()
                .map(|w| w.id.clone())
                .collect()
        };
        assert_eq!(order(&doc), vec![first.id.clone(), second.id.clone()]);
        reorder_workflows(&mut doc, &[second.id.clone(), first.id.clone()], 6).unwrap();
        assert_eq!(order(&doc), vec![second.id.clone(), first.id.clone()]);
        assert_eq!(
            reorder_workflows(&mut doc, std::slice::from_ref(&second.id), 7),
            Err(OpError::Workflow(WorkflowError::Order))
        );
        assert_eq!(
            reorder_workflows(&mut doc, &[second.id.clone(), second.id.clone()], 7),
            Err(OpError::Workflow(WorkflowError::Order))
        );
        delete_workflow(&mut doc, &second.id, 8).unwrap();
        assert_eq!(order(&doc), vec![first.id.clone()]);
        assert_eq!(
            delete_workflow(&mut doc, &second.id, 9),
            Err(OpError::Workflow(WorkflowError::Unknown(second.id)))
        );
    }

    #[test]
    fn an_incomplete_workflow_is_not_written() {
        let (mut doc, ana, billing) = doc();
        let mut workflow = billing_workflow(&doc, &ana, &billing);
        workflow.steps.clear();
        let heads = doc.get_heads();
        assert_eq!(
            put_workflow(&mut doc, &workflow, 4),
            Err(OpError::Workflow(WorkflowError::NoSteps))
        );
        assert_eq!(doc.get_heads(), heads);
    }

    #[test]
    fn documents_from_before_workflows_read_and_gain_the_map_once() {
        let (mut doc, ..) = doc();
        doc.delete(ROOT, key::WORKFLOWS).unwrap();
        doc.commit();
        assert!(read(&doc).unwrap().workflows.is_empty());
        assert!(ensure_workflows(&mut doc, 4).unwrap());
        assert!(!ensure_workflows(&mut doc, 5).unwrap());
    }
}
