//! Every action of the seed as one Automerge change with its activity entry:
//! customer message, reply (claiming by default, or "Reply and leave
//! unassigned") and internal note (in `messages`), assign / reassign /
//! unassign, resolve, reopen, and bulk assign (in `bulk`). The app applies
//! these locally first; the server applies the same ones for ingest,
//! workflows and corrections.
//!
//! The rules these refuse to break are in [`crate::rules`]; what the server
//! repairs after concurrent changes is [`correct`].

mod bulk;
mod correct;
mod messages;

pub use crate::error::OpError;
pub use bulk::{BulkOutcome, bulk_assign, new_batch_id};
pub use correct::{Correction, correct, settle};
pub use messages::{customer_message, note, reply};

use automerge::AutoCommit;

use crate::clock::next_at;
use crate::conversation::{self, push_activity, write_assignment, write_status};
use crate::doc_io::commit_options;
use crate::ids::{AgentId, BatchId, MessageId};
use crate::limits;
use crate::model::{
    Activity, ActivityEvent, Assignment, AssignmentKind, By, Conversation, Millis, Status,
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
    if activity {
        check_activity_room(current.activity.len())?;
    }
    Ok(())
}

/// Whether a trail of `entries` activity entries takes one more.
fn check_activity_room(entries: usize) -> Result<(), OpError> {
    if entries >= limits::MAX_ACTIVITY {
        return Err(OpError::ConversationFull {
            what: "activity entries",
            limit: limits::MAX_ACTIVITY,
        });
    }
    Ok(())
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
    // Only what the rules need is read: a bulk action assigns hundreds of
    // conversations, and reading each one whole cost as much as writing it.
    let current = conversation::standing(doc)?;
    rules::check_open(current.status)?;
    let previous = current.assignee().cloned();
    let settled = current.assignments.len() == 1;
    if previous.as_ref() == to && settled {
        return Ok(AssignOutcome {
            assignee: previous.clone(),
            previous,
            changed: false,
        });
    }
    check_activity_room(current.activity)?;
    let kind = AssignmentKind::decided_by(by);
    let at = next_at(now, current.latest_at);
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
    // As in `assign`: a bulk resolve needs only the standing of each.
    let current = conversation::standing(doc)?;
    if current.status == status {
        return Err(match status {
            Status::Open => OpError::AlreadyOpen,
            Status::Resolved => OpError::AlreadyResolved,
        });
    }
    check_activity_room(current.activity)?;
    let at = next_at(now, current.latest_at);
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
