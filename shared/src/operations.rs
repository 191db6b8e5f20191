//! Every action of the seed as one Automerge change with its activity entry:
//! customer message, reply (claiming by default, or "Reply and leave
//! unassigned"), internal note, assign / reassign / unassign, resolve, reopen,
//! and bulk assign (in `bulk`). The app applies these locally first; the
//! server applies the same ones for ingest, workflows and corrections.

//!
//! The rules these refuse to break are in [`crate::rules`]; what the server
//! repairs after concurrent changes is [`correct`].

mod bulk;
mod correct;

pub use crate::error::OpError;
pub use bulk::{BulkOutcome, bulk_assign, new_batch_id};
pub use correct::{Correction, correct, settle};

use automerge::AutoCommit;

use crate::clock::next_at;
use crate::conversation::{self, push_activity, push_message, write_assignment, write_status};
use crate::doc_io::commit_options;
use crate::ids::{AgentId, BatchId, MessageId};
use crate::limits;
use crate::model::{
    Activity, ActivityEvent, Assignment, AssignmentKind, Author, By, Conversation, Message,
    MessageKind, Millis, Status,
};
use crate::rules;
use crate::workspace::Workspace;

/// How a reply treats an unassigned conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    /// The default: the first agent to reply becomes the assignee.
    Claim,
    /// "Reply and leave unassigned".
    LeaveUnassigned,
}

/// What a reply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyOutcome {
    /// The reply's id.
    pub message: MessageId,
    /// Whether the reply made its author the assignee.
    pub claimed: bool,
}

/// What an assign, reassign or unassign did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignOutcome {
    /// Who held the conversation before.
    pub previous: Option<AgentId>,
    /// Who holds it now (`None`: unassigned).
    pub assignee: Option<AgentId>,
    /// `false` when the conversation already had that assignee; nothing was written.
    pub changed: bool,
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

/// Whether `current` has room for one more message of `body` (if any) and
/// one more activity entry (if `activity`): a full conversation takes
/// nothing more from anyone, the server included.
pub fn check_room(
    current: &Conversation,
    body: Option<&str>,
    activity: bool,
) -> Result<(), OpError> {
    let full = |what, limit| Err(OpError::ConversationFull { what, limit });
    if let Some(body) = body {
        if current.messages.len() >= limits::MAX_MESSAGES {
            return full("messages", limits::MAX_MESSAGES);
        }
        let total: usize = current.messages.iter().map(|m| m.body.len()).sum();
        if total + body.len() > limits::MAX_CONVERSATION_BYTES {
            return full("bytes of messages", limits::MAX_CONVERSATION_BYTES);
        }
    }
    if activity && current.activity.len() >= limits::MAX_ACTIVITY {
        return full("activity entries", limits::MAX_ACTIVITY);
    }
    Ok(())
}

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
/// # use baton_shared::workspace::Workspace;
/// # let mut workspace = Workspace::default();
/// # for name in ["Ana", "Ben"] {
/// #     let agent = Agent {
/// #         id: format!("agt_{}", name.to_lowercase()).parse()?,
/// #         name: name.to_owned(),
/// #         email: format!("{}@example.com", name.to_lowercase()),
/// #         role: Role::Agent,
/// #         active: true,
/// #         away: false,
/// #         capacity: None,
/// #     };
/// #     workspace.agents.insert(agent.id.clone(), agent);
/// # }
/// # let now = 1_700_000_000_000;
/// # let mut doc = conversation::create(&NewConversation {
/// #     id: "cnv_refund".parse()?,
/// #     channel: "chn_email".parse()?,
/// #     subject: "Where is my refund?".to_owned(),
/// #     customer: Customer {
/// #         id: "cus_dee".to_owned(),
/// #         name: "Dee".to_owned(),
/// #         email: "dee@example.com".to_owned(),
/// #     },
/// #     at: now - 60_000,
/// # })?;
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

/// Assign or Reassign (`to: Some`) or Unassign (`to: None`), by a person
/// (`manual`) or a workflow (`workflow`). `batch` groups the notifications of
/// a bulk action or a workflow run.
///
/// The new assignee must be an active agent and the conversation open
/// ([`crate::rules`]); assigning it to whoever holds it writes nothing.
///
/// ```
/// # use baton_shared::conversation::{self, NewConversation};
/// # use baton_shared::ids::AgentId;
/// # use baton_shared::model::{Agent, Customer, Role};
/// # use baton_shared::workspace::Workspace;
/// # let mut workspace = Workspace::default();
/// # for name in ["Ana", "Ben"] {
/// #     let agent = Agent {
/// #         id: format!("agt_{}", name.to_lowercase()).parse()?,
/// #         name: name.to_owned(),
/// #         email: format!("{}@example.com", name.to_lowercase()),
/// #         role: Role::Agent,
/// #         active: true,
/// #         away: false,
/// #         capacity: None,
/// #     };
/// #     workspace.agents.insert(agent.id.clone(), agent);
/// # }
/// # let now = 1_700_000_000_000;
/// # let mut doc = conversation::create(&NewConversation {
/// #     id: "cnv_refund".parse()?,
/// #     channel: "chn_email".parse()?,
/// #     subject: "Where is my refund?".to_owned(),
/// #     customer: Customer {
/// #         id: "cus_dee".to_owned(),
/// #         name: "Dee".to_owned(),
/// #         email: "dee@example.com".to_owned(),
/// #     },
/// #     at: now - 60_000,
/// # })?;
/// use baton_shared::model::By;
/// use baton_shared::operations;
///
/// let ana: AgentId = "agt_ana".parse()?;
/// let ben: AgentId = "agt_ben".parse()?;
/// let by_ana = By::Agent(ana.clone());
/// operations::assign(&mut doc, &workspace, &by_ana, Some(&ana), None, now)?;
/// // Ana reassigns it to Ben.
/// let outcome =
///     operations::assign(&mut doc, &workspace, &by_ana, Some(&ben), None, now + 1)?;
/// assert_eq!(outcome.previous, Some(ana.clone()));
/// assert_eq!(outcome.assignee, Some(ben.clone()));
/// assert!(outcome.changed);
/// assert_eq!(conversation::read(&doc)?.assignee(), Some(&ben));
///
/// // Once resolved, a conversation is not reassigned.
/// operations::resolve(&mut doc, &by_ana, now + 2)?;
/// let reassigned = operations::assign(&mut doc, &workspace, &by_ana, Some(&ana), None, now + 3);
/// assert!(reassigned.is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn assign(
    doc: &mut AutoCommit,
    workspace: &Workspace,
    by: &By,
    to: Option<&AgentId>,
    batch: Option<&BatchId>,
    now: Millis,
) -> Result<AssignOutcome, OpError> {
    if let Some(agent) = to {
        rules::check_active(workspace, agent)?;
    }
    let current = conversation::read(doc)?;
    rules::check_open(&current)?;
    let previous = current.assignee().cloned();
    let settled = current.assignments.len() == 1;
    if previous.as_ref() == to && settled {
        return Ok(AssignOutcome {
            assignee: previous.clone(),
            previous,
            changed: false,
        });
    }
    check_room(&current, None, true)?;
    let kind = AssignmentKind::decided_by(by);
    let at = next_at(now, current.latest_at());
    write_assignment(
        doc,
        &Assignment {
            agent: to.cloned(),
            kind,
            by: by.clone(),
            at,
        },
    )?;
    let batch = batch.cloned();
    let event = match to {
        Some(agent) => ActivityEvent::Assigned {
            agent: agent.clone(),
            previous: previous.clone(),
            batch,
        },
        None => ActivityEvent::Unassigned {
            previous: previous.clone(),
            batch,
        },
    };
    push_activity(
        doc,
        &Activity {
            at,
            by: by.clone(),
            event,
        },
    )?;
    doc.commit_with(commit_options(
        if to.is_some() { "assign" } else { "unassign" },
        at,
    ));
    Ok(AssignOutcome {
        previous,
        assignee: to.cloned(),
        changed: true,
    })
}

/// Unassign: the same as [`assign`] with no agent.
pub fn unassign(
    doc: &mut AutoCommit,
    workspace: &Workspace,
    by: &By,
    batch: Option<&BatchId>,
    now: Millis,
) -> Result<AssignOutcome, OpError> {
    assign(doc, workspace, by, None, batch, now)
}

/// Marks the conversation resolved; the assignee stays for the record.
pub fn resolve(doc: &mut AutoCommit, by: &By, now: Millis) -> Result<(), OpError> {
    set_status(doc, by, Status::Resolved, now)
}

/// Reopens a resolved conversation.
pub fn reopen(doc: &mut AutoCommit, by: &By, now: Millis) -> Result<(), OpError> {
    set_status(doc, by, Status::Open, now)
}

fn set_status(doc: &mut AutoCommit, by: &By, status: Status, now: Millis) -> Result<(), OpError> {
    let current = conversation::read(doc)?;
    if current.status == status {
        return Err(match status {
            Status::Open => OpError::AlreadyOpen,
            Status::Resolved => OpError::AlreadyResolved,
        });
    }
    check_room(&current, None, true)?;
    let at = next_at(now, current.latest_at());
    write_status(doc, status)?;
    let event = match status {
        Status::Open => ActivityEvent::Reopened,
        Status::Resolved => ActivityEvent::Resolved,
    };
    push_activity(
        doc,
        &Activity {
            at,
            by: by.clone(),
            event,
        },
    )?;
    doc.commit_with(commit_options(event_name(status), at));
    Ok(())
}

fn event_name(status: Status) -> &'static str {
    match status {
        Status::Open => "reopen",
        Status::Resolved => "resolve",
    }
}

fn server_activity(at: Millis, event: ActivityEvent) -> Activity {
    Activity {
        at,
        by: By::Server,
        event,
    }
}

/// Writes "unassigned by the server" without committing (part of a larger change).
fn unassign_by_server(doc: &mut AutoCommit, previous: AgentId, at: Millis) -> Result<(), OpError> {
    write_assignment(
        doc,
        &Assignment {
            agent: None,
            kind: AssignmentKind::Settled,
            by: By::Server,
            at,
        },
    )?;
    push_activity(
        doc,
        &server_activity(
            at,
            ActivityEvent::Unassigned {
                previous: Some(previous),
                batch: None,
            },
        ),
    )?;
    Ok(())
}
