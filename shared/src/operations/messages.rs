//! The writes that add to the thread: a customer's message, an agent's
//! reply (which may claim the conversation) and an internal note.

use automerge::AutoCommit;

use super::{OpError, ReplyMode, ReplyOutcome, check_room, server_activity, unassign_by_server};
use crate::clock::next_at;
use crate::conversation::{self, push_activity, push_message, write_assignment, write_status};
use crate::doc_io::commit_options;
use crate::ids::{AgentId, MessageId};
use crate::limits;
use crate::model::{
    Activity, ActivityEvent, Assignment, AssignmentKind, Author, By, Message, MessageKind, Millis,
    Status,
};
use crate::rules;
use crate::workspace::Workspace;

/// A message from the customer (server only). A message on a resolved
/// conversation reopens it; it keeps its assignee if that agent is still active.
pub fn customer_message(
    doc: &mut AutoCommit,
    workspace: &Workspace,
    body: &str,
    now: Millis,
) -> Result<MessageId, OpError> {
    check_body(body)?;
    let current = conversation::read(doc)?;
    check_room(&current, Some(body), current.status == Status::Resolved)?;
    let at = next_at(now, current.latest_at());
    let id = MessageId::random();
    push_message(
        doc,
        &Message {
            id: id.clone(),
            kind: MessageKind::Message,
            author: Author::Customer,
            body: body.to_owned(),
            at,
            leave_unassigned: false,
        },
    )?;
    if current.status == Status::Resolved {
        write_status(doc, Status::Open)?;
        push_activity(doc, &server_activity(at, ActivityEvent::Reopened))?;
        if let Some(gone) = rules::inactive_assignee(&current, workspace) {
            unassign_by_server(doc, gone.clone(), at)?;
        }
    }
    doc.commit_with(commit_options("customer message", at));
    Ok(id)
}

/// An agent's reply to the customer. With [`ReplyMode::Claim`] a reply to a
/// conversation with no effective assignee makes its author the assignee in
/// the same change; a reply to an assigned conversation never changes it.
///
/// It is refused, with nothing written, when it breaks a rule of
/// [`crate::rules`]: the author must be active, the conversation open,
/// and with "only the assignee replies" on, the author its assignee.
///
/// ```
/// # use baton_shared::conversation::{self, NewConversation};
/// # use baton_shared::ids::AgentId;
/// # use baton_shared::model::{Agent, Customer, Role};
/// # let mut workspace = baton_shared::workspace::Workspace::default();
/// # for (id, name) in [("agt_ana", "Ana"), ("agt_ben", "Ben")] {
/// #     let (id, name, email) = (id.parse()?, name.into(), format!("{id}@example.com"));
/// #     let (role, active, away, capacity) = (Role::Agent, true, false, None);
/// #     let agent = Agent { id, name, email, role, active, away, capacity };
/// #     workspace.agents.insert(agent.id.clone(), agent);
/// # }
/// # let now = 1_700_000_000_000;
/// # let (name, email) = ("Dee".into(), "dee@example.com".into());
/// # let customer = Customer { id: "cus_dee".into(), name, email };
/// # let (id, channel) = ("cnv_refund".parse()?, "chn_email".parse()?);
/// # let subject = "Where is my refund?".to_owned();
/// # let new = NewConversation { id, channel, subject, customer, at: now - 60_000 };
/// # let mut doc = conversation::create(&new)?;
/// use baton_shared::operations::{self, OpError, ReplyMode};
/// use baton_shared::rules::RuleBroken;
///
/// let ana: AgentId = "agt_ana".parse()?;
/// let ben: AgentId = "agt_ben".parse()?;
/// // The first reply claims an unassigned conversation.
/// let outcome =
///     operations::reply(&mut doc, &workspace, &ana, "Refunded.", ReplyMode::Claim, now)?;
/// assert!(outcome.claimed);
/// assert_eq!(conversation::read(&doc)?.assignee(), Some(&ana));
///
/// // With "only the assignee replies" on, Ben's reply is refused and nothing is written.
/// workspace.settings.only_assignee_replies = true;
/// let refused = operations::reply(&mut doc, &workspace, &ben, "Hi!", ReplyMode::Claim, now);
/// assert_eq!(refused, Err(OpError::Rule(RuleBroken::NotAssignee)));
/// assert_eq!(conversation::read(&doc)?.messages.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn reply(
    doc: &mut AutoCommit,
    workspace: &Workspace,
    agent: &AgentId,
    body: &str,
    mode: ReplyMode,
    now: Millis,
) -> Result<ReplyOutcome, OpError> {
    check_body(body)?;
    rules::check_active(workspace, agent)?;
    let current = conversation::read(doc)?;
    rules::check_reply(&current, workspace, agent)?;
    let claims = mode == ReplyMode::Claim && rules::check_claim(&current).is_ok();
    check_room(&current, Some(body), claims)?;
    let at = next_at(now, current.latest_at());
    let id = MessageId::random();
    push_message(
        doc,
        &Message {
            id: id.clone(),
            kind: MessageKind::Message,
            author: Author::Agent(agent.clone()),
            body: body.to_owned(),
            at,
            leave_unassigned: mode == ReplyMode::LeaveUnassigned,
        },
    )?;
    let claimed = claims;
    if claimed {
        write_assignment(
            doc,
            &Assignment {
                agent: Some(agent.clone()),
                kind: AssignmentKind::Reply,
                by: By::Agent(agent.clone()),
                at,
            },
        )?;
        push_activity(
            doc,
            &Activity {
                at,
                by: By::Agent(agent.clone()),
                event: ActivityEvent::Claimed {
                    agent: agent.clone(),
                },
            },
        )?;
    }
    doc.commit_with(commit_options("reply", at));
    Ok(ReplyOutcome {
        message: id,
        claimed,
    })
}

/// An internal note, seen by agents only; it never changes the assignee.
pub fn note(
    doc: &mut AutoCommit,
    workspace: &Workspace,
    agent: &AgentId,
    body: &str,
    now: Millis,
) -> Result<MessageId, OpError> {
    check_body(body)?;
    rules::check_active(workspace, agent)?;
    let current = conversation::read(doc)?;
    check_room(&current, Some(body), false)?;
    let at = next_at(now, current.latest_at());
    let id = MessageId::random();
    push_message(
        doc,
        &Message {
            id: id.clone(),
            kind: MessageKind::Note,
            author: Author::Agent(agent.clone()),
            body: body.to_owned(),
            at,
            leave_unassigned: false,
        },
    )?;
    doc.commit_with(commit_options("note", at));
    Ok(id)
}

fn check_body(body: &str) -> Result<(), OpError> {
    if body.trim().is_empty() {
        return Err(OpError::EmptyBody);
    }
    if body.len() > limits::MAX_MESSAGE_BYTES {
        return Err(OpError::TooLarge {
            size: body.len(),
            limit: limits::MAX_MESSAGE_BYTES,
        });
    }
    Ok(())
}
