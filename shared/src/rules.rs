//! The rules of a conversation that both sides enforce, each written once:
//! the app checks them before it writes an action ([`crate::operations`]),
//! and the server refuses a change that broke one ([`crate::validate`]),
//! each converting [`RuleBroken`] into its own error with `From`.
//!
//! - a resolved conversation takes no reply and no assignment;
//! - only active agents reply, write notes and are assigned;
//! - with "only the assignee replies" on, nobody else replies;
//! - a reply claims a conversation only when nobody holds it.

use crate::ids::AgentId;
use crate::model::{Conversation, Status};
use crate::workspace::Workspace;

pub use crate::error::RuleBroken;

/// A resolved conversation takes no reply and no assignment until it is
/// reopened.
pub fn check_open(status: Status) -> Result<(), RuleBroken> {
    match status {
        Status::Open => Ok(()),
        Status::Resolved => Err(RuleBroken::Resolved),
    }
}

/// Only an active agent replies, writes notes or is assigned; a
/// deactivated agent keeps their history but takes no new work.
pub fn check_active(workspace: &Workspace, agent: &AgentId) -> Result<(), RuleBroken> {
    if workspace.is_active(agent) {
        Ok(())
    } else {
        Err(RuleBroken::InactiveAgent(agent.clone()))
    }
}

/// Whether `agent` may reply to the customer: the conversation is open and,
/// when the workspace has "only the assignee replies" on, nobody else
/// holds it.
pub fn check_reply(
    conversation: &Conversation,
    workspace: &Workspace,
    agent: &AgentId,
) -> Result<(), RuleBroken> {
    check_open(conversation.status)?;
    let held_by_another = conversation.assignee().is_some_and(|a| a != agent);
    if workspace.settings.only_assignee_replies && held_by_another {
        return Err(RuleBroken::NotAssignee);
    }
    Ok(())
}

/// A reply claims the conversation (makes its author the assignee) only
/// when nobody holds it.
pub fn check_claim(conversation: &Conversation) -> Result<(), RuleBroken> {
    match conversation.assignee() {
        None => Ok(()),
        Some(_) => Err(RuleBroken::AlreadyAssigned),
    }
}

/// The assignee, if they are no longer an active agent: the server
/// unassigns them.
pub fn inactive_assignee<'a>(
    conversation: &'a Conversation,
    workspace: &Workspace,
) -> Option<&'a AgentId> {
    conversation
        .assignee()
        .filter(|agent| check_active(workspace, agent).is_err())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Agent, Assignment, AssignmentKind, By, Customer, Role};

    fn id(name: &str) -> AgentId {
        format!("agt_{name}").parse().unwrap()
    }

    /// Ana and Ben are active; Cy was deactivated.
    fn team(only_assignee_replies: bool) -> Workspace {
        let mut workspace = Workspace::default();
        workspace.settings.only_assignee_replies = only_assignee_replies;
        for (name, active) in [("ana", true), ("ben", true), ("cy", false)] {
            let agent = Agent {
                id: id(name),
                name: name.to_owned(),
                email: format!("{name}@example.com"),
                role: Role::Agent,
                active,
                away: false,
                capacity: None,
            };
            workspace.agents.insert(agent.id.clone(), agent);
        }
        workspace
    }

    fn held_by(holder: Option<&str>, status: Status) -> Conversation {
        Conversation {
            id: "cnv_refund".parse().unwrap(),
            channel: "chn_email".parse().unwrap(),
            subject: "Refund".to_owned(),
            customer: Customer {
                id: "c1".to_owned(),
                name: "Dee".to_owned(),
                email: "dee@example.com".to_owned(),
            },
            created_at: 1,
            status,
            assignments: vec![Assignment {
                agent: holder.map(id),
                kind: AssignmentKind::Manual,
                by: By::Server,
                at: 2,
            }],
            messages: Vec::new(),
            activity: Vec::new(),
        }
    }

    #[test]
    fn a_resolved_conversation_takes_no_reply_and_no_assignment() {
        let resolved = held_by(Some("ana"), Status::Resolved);
        assert_eq!(check_open(resolved.status), Err(RuleBroken::Resolved));
        let reply = check_reply(&resolved, &team(false), &id("ana"));
        assert_eq!(reply, Err(RuleBroken::Resolved));
        assert_eq!(check_open(held_by(None, Status::Open).status), Ok(()));
    }

    #[test]
    fn only_the_assignee_replies_when_the_workspace_says_so() {
        let bens = held_by(Some("ben"), Status::Open);
        let strict = team(true);
        assert_eq!(check_reply(&bens, &strict, &id("ben")), Ok(()));
        assert_eq!(
            check_reply(&bens, &strict, &id("ana")),
            Err(RuleBroken::NotAssignee)
        );
        assert_eq!(check_reply(&bens, &team(false), &id("ana")), Ok(()));
        let nobodys = held_by(None, Status::Open);
        assert_eq!(check_reply(&nobodys, &strict, &id("ana")), Ok(()));
    }

    #[test]
    fn a_reply_claims_only_a_conversation_nobody_holds() {
        assert_eq!(check_claim(&held_by(None, Status::Open)), Ok(()));
        assert_eq!(
            check_claim(&held_by(Some("ben"), Status::Open)),
            Err(RuleBroken::AlreadyAssigned)
        );
    }

    #[test]
    fn a_deactivated_agent_takes_no_new_work_and_is_unassigned() {
        let workspace = team(false);
        assert_eq!(check_active(&workspace, &id("ana")), Ok(()));
        assert_eq!(
            check_active(&workspace, &id("cy")),
            Err(RuleBroken::InactiveAgent(id("cy")))
        );
        assert_eq!(
            check_active(&workspace, &id("zed")),
            Err(RuleBroken::InactiveAgent(id("zed")))
        );
        let cys = held_by(Some("cy"), Status::Open);
        assert_eq!(inactive_assignee(&cys, &workspace), Some(&id("cy")));
        let anas = held_by(Some("ana"), Status::Open);
        assert_eq!(inactive_assignee(&anas, &workspace), None);
    }
}
