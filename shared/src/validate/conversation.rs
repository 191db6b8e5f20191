//! Validation of a change to a conversation document, read as the
//! conversation before and after it. Its operations were already checked
//! ([`super::ops`]): nothing that existed was deleted or replaced. Here the
//! new parts must be what the principal could honestly have written: one
//! message, activity entry or assignment at most, in their own name, the
//! activity entry matching what the change did, at a time the server can
//! believe.

use std::collections::{HashMap, HashSet};

use automerge::{AutoCommit, ReadDoc};

use super::online::Made;
use super::{Context, Principal, Violation, check_at, check_size};
use crate::conversation::{read, read_assignments};
use crate::limits;
use crate::model::{
    Activity, ActivityEvent, Assignment, AssignmentKind, Author, By, Conversation, Message,
    MessageKind, Status,
};
use crate::rules;

/// What one change added.
struct Added<'a> {
    messages: Vec<&'a Message>,
    activity: Vec<&'a Activity>,
    assignments: Vec<Assignment>,
    /// The new status, when the change set one that differs.
    status: Option<Status>,
}

pub(super) fn check(
    before_doc: &AutoCommit,
    after_doc: &AutoCommit,
    at_deps_doc: Option<&AutoCommit>,
    ctx: &Context<'_>,
) -> Result<(), Violation> {
    let after = read(after_doc).map_err(Violation::malformed)?;
    let before = read(before_doc).map_err(Violation::malformed)?;
    check_growth(&before, &after)?;
    if *ctx.principal == Principal::Server {
        return Ok(());
    }
    // The document as the change saw it; `None` when that is `before`.
    let forked;
    let at_deps = match at_deps_doc {
        Some(doc) => {
            forked = read(doc).map_err(Violation::malformed)?;
            &forked
        }
        None => &before,
    };
    check_immutable(&before, &after)?;
    let added = added(before_doc, after_doc, &before, &after)?;
    let me = ctx.principal.agent();

    // Every timestamp of the change: not before what it had seen, not
    // ahead of the server, and not stamped into a time its author was
    // online if it arrives only now.
    let latest_seen = at_deps.latest_at();
    let stamps = added
        .messages
        .iter()
        .map(|m| m.at)
        .chain(added.activity.iter().map(|a| a.at))
        .chain(added.assignments.iter().map(|a| a.at));
    let mut earliest = None;
    for at in stamps {
        check_at(at, latest_seen, ctx.now)?;
        earliest = Some(earliest.map_or(at, |e: i64| e.min(at)));
    }
    let made = match earliest {
        Some(at) => ctx.online.judge(at, ctx.now)?,
        None => Made::Offline,
    };
    // State rules hold at the change's dependencies; a change made while
    // its author was online must also fit the document as it is now.
    let states: Vec<&Conversation> = match made {
        Made::Online => vec![at_deps, &before],
        Made::Offline => vec![at_deps],
    };

    for message in &added.messages {
        match &message.author {
            Author::Agent(author) if Some(author) == me => {}
            other => {
                return Err(Violation::ForgedAuthor {
                    claimed: describe(other),
                });
            }
        }
        if let (MessageKind::Message, Author::Agent(author)) = (message.kind, &message.author) {
            for state in &states {
                rules::check_reply(state, ctx.workspace, author)?;
            }
        }
    }
    for value in &added.assignments {
        check_assignment(value, ctx)?;
        for state in &states {
            rules::check_open(state.status)?;
        }
        if value.kind == AssignmentKind::Reply {
            for state in &states {
                rules::check_claim(state)?;
            }
        }
    }
    for entry in &added.activity {
        if matches!(
            entry.event,
            ActivityEvent::Created | ActivityEvent::Settled { .. }
        ) || !matches!(entry.by, By::Agent(_))
        {
            return Err(Violation::SystemActivity {
                what: format!("a {:?} activity entry by {}", entry.event.name(), entry.by),
            });
        }
        check_by(&entry.by, ctx.principal)?;
    }
    check_matching(&added, at_deps)
}

/// The new messages, activity entries, assignment values and status.
fn added<'a>(
    before_doc: &AutoCommit,
    after_doc: &AutoCommit,
    before: &Conversation,
    after: &'a Conversation,
) -> Result<Added<'a>, Violation> {
    // Messages are permanent: every one already there stays, unchanged.
    let after_messages: HashMap<_, _> = after.messages.iter().map(|m| (&m.id, m)).collect();
    if after_messages.len() != after.messages.len() {
        return Err(Violation::malformed("two messages share an id"));
    }
    for message in &before.messages {
        if after_messages.get(&message.id) != Some(&message) {
            return Err(Violation::EditedMessage {
                id: message.id.to_string(),
            });
        }
    }
    let known: HashSet<_> = before.messages.iter().map(|m| &m.id).collect();
    let messages: Vec<&Message> = after
        .messages
        .iter()
        .filter(|m| !known.contains(&m.id))
        .collect();

    // The activity trail only grows.
    let mut remaining: HashMap<&Activity, usize> = HashMap::new();
    for entry in &after.activity {
        *remaining.entry(entry).or_default() += 1;
    }
    for entry in &before.activity {
        match remaining.get_mut(entry) {
            Some(count) if *count > 0 => *count -= 1,
            _ => return Err(Violation::EditedActivity),
        }
    }
    let mut activity = Vec::new();
    for entry in &after.activity {
        if let Some(count) = remaining.get_mut(entry).filter(|c| **c > 0) {
            *count -= 1;
            activity.push(entry);
        }
    }

    // Assignments are replaced whole; an existing value never changes.
    let before_values: HashMap<_, _> = read_assignments(before_doc)
        .map_err(Violation::malformed)?
        .into_iter()
        .map(|(value, id)| (id, value))
        .collect();
    let mut assignments = Vec::new();
    for (value, id) in read_assignments(after_doc).map_err(Violation::malformed)? {
        match before_values.get(&id) {
            Some(old) if *old == value => {}
            Some(_) => return Err(Violation::EditedAssignment),
            None => assignments.push(value),
        }
    }

    if messages.len() > 1 || activity.len() > 1 || assignments.len() > 1 {
        return Err(Violation::inconsistent(
            "one change adds at most one message, one activity entry and one assignment",
        ));
    }
    let status = status_written(before_doc, after_doc)?;
    Ok(Added {
        messages,
        activity,
        assignments,
        status,
    })
}

/// The status the change wrote, if it wrote one (told by the value's id,
/// so writing the status it already had counts too).
fn status_written(before: &AutoCommit, after: &AutoCommit) -> Result<Option<Status>, Violation> {
    let values = |doc: &AutoCommit| -> Result<Vec<(String, automerge::ObjId)>, Violation> {
        Ok(doc
            .get_all(automerge::ROOT, "status")
            .map_err(Violation::malformed)?
            .into_iter()
            .map(|(value, id)| (value.as_str().unwrap_or_default().to_owned(), id))
            .collect())
    };
    let old: HashSet<automerge::ObjId> = values(before)?.into_iter().map(|(_, id)| id).collect();
    let mut new = values(after)?
        .into_iter()
        .filter(|(_, id)| !old.contains(id));
    match (new.next(), new.next()) {
        (None, _) => Ok(None),
        (Some((text, _)), None) => text.parse().map(Some).map_err(Violation::malformed),
        (Some(_), Some(_)) => Err(Violation::inconsistent("the status is written twice")),
    }
}

/// A new assignment value is the principal's own decision, for an active agent.
fn check_assignment(value: &Assignment, ctx: &Context<'_>) -> Result<(), Violation> {
    if matches!(
        value.kind,
        AssignmentKind::Settled | AssignmentKind::Workflow
    ) {
        return Err(Violation::SystemActivity {
            what: format!("a {:?} assignment", value.kind.as_str()),
        });
    }
    check_by(&value.by, ctx.principal)?;
    if value.kind == AssignmentKind::Reply && value.agent.as_ref() != ctx.principal.agent() {
        return Err(Violation::ForgedBy {
            by: format!(
                "a claim by replying for {}",
                value.agent.as_ref().map_or("nobody", |a| a.as_str())
            ),
            principal: ctx.principal.to_string(),
        });
    }
    if let Some(agent) = &value.agent {
        rules::check_active(ctx.workspace, agent)?;
    }
    Ok(())
}

/// The activity entry says what the change did, and the change did only
/// what its entry says: a claim comes with the claimer's reply and claim,
/// an assignment with its entry (naming who held it before), a status
/// with "resolved" or "reopened". The app shows the entries, and the
/// server fires workflows and notifications from them.
fn check_matching(added: &Added<'_>, at_deps: &Conversation) -> Result<(), Violation> {
    let entry = added.activity.first().map(|a| &a.event);
    let assignment = added.assignments.first();
    let previous = at_deps.assignee();
    let fits = match (entry, assignment, added.status) {
        (None, None, None) => true,
        (Some(ActivityEvent::Claimed { agent }), Some(value), None) => {
            value.kind == AssignmentKind::Reply
                && value.agent.as_ref() == Some(agent)
                && added
                    .messages
                    .iter()
                    .any(|m| m.kind == MessageKind::Message)
        }
        (
            Some(ActivityEvent::Assigned {
                agent,
                previous: was,
                ..
            }),
            Some(value),
            None,
        ) => {
            value.kind == AssignmentKind::Manual
                && value.agent.as_ref() == Some(agent)
                && was.as_ref() == previous
        }
        (Some(ActivityEvent::Unassigned { previous: was, .. }), Some(value), None) => {
            value.kind == AssignmentKind::Manual
                && value.agent.is_none()
                && was.as_ref() == previous
        }
        (Some(ActivityEvent::Resolved), None, Some(Status::Resolved)) => {
            at_deps.status == Status::Open
        }
        (Some(ActivityEvent::Reopened), None, Some(Status::Open)) => {
            at_deps.status == Status::Resolved
        }
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(Violation::inconsistent(
            "its activity entry does not match what it changed (an assignment needs its entry, \
             and an entry its assignment or status)",
        ))
    }
}

fn check_immutable(before: &Conversation, after: &Conversation) -> Result<(), Violation> {
    let field = if before.id != after.id {
        "id"
    } else if before.channel != after.channel {
        "channel"
    } else if before.customer != after.customer {
        "customer"
    } else if before.subject != after.subject {
        "subject"
    } else if before.created_at != after.created_at {
        "creation time"
    } else {
        return Ok(());
    };
    Err(Violation::ImmutableField {
        field: field.to_owned(),
    })
}

/// The limits of one conversation, judged on what the change adds: a
/// conversation at a limit still takes changes that add nothing to it.
pub(crate) fn check_growth(before: &Conversation, after: &Conversation) -> Result<(), Violation> {
    let grew = |what: &str, was: usize, now: usize, limit: usize| {
        if now > was {
            check_size(what, now, limit)
        } else {
            Ok(())
        }
    };
    grew(
        "the number of messages",
        before.messages.len(),
        after.messages.len(),
        limits::MAX_MESSAGES,
    )?;
    grew(
        "the activity trail",
        before.activity.len(),
        after.activity.len(),
        limits::MAX_ACTIVITY,
    )?;
    grew(
        "the number of competing assignments",
        before.assignments.len(),
        after.assignments.len(),
        limits::MAX_ASSIGNMENTS,
    )?;
    let known: HashSet<_> = before.messages.iter().map(|m| &m.id).collect();
    for message in after.messages.iter().filter(|m| !known.contains(&m.id)) {
        check_size("a message", message.body.len(), limits::MAX_MESSAGE_BYTES)?;
    }
    let bodies = |c: &Conversation| c.messages.iter().map(|m| m.body.len()).sum::<usize>();
    grew(
        "the conversation",
        bodies(before),
        bodies(after),
        limits::MAX_CONVERSATION_BYTES,
    )?;
    check_size("the subject", after.subject.len(), limits::MAX_FIELD_BYTES)
}

fn check_by(by: &By, principal: &Principal) -> Result<(), Violation> {
    if *by == principal.by() {
        Ok(())
    } else {
        Err(Violation::ForgedBy {
            by: by.to_string(),
            principal: principal.to_string(),
        })
    }
}

fn describe(author: &Author) -> String {
    match author {
        Author::Customer => "the customer".to_owned(),
        Author::System => "the system".to_owned(),
        Author::Agent(agent) => agent.to_string(),
    }
}
