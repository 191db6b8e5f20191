//! Validation of a change to a conversation document.

use std::collections::{BTreeMap, HashMap};

use automerge::AutoCommit;

use super::{Context, Principal, Violation, check_at, check_size};
use crate::conversation::{read, read_assignments};
use crate::limits;
use crate::model::{ActivityEvent, AssignmentKind, Author, By, Conversation, MessageKind, Status};

pub(super) fn check(
    before_doc: &AutoCommit,
    after_doc: &AutoCommit,
    at_deps_doc: Option<&AutoCommit>,
    ctx: &Context<'_>,
) -> Result<(), Violation> {
    let after = read(after_doc).map_err(Violation::malformed)?;
    check_limits(&after)?;
    if *ctx.principal == Principal::Server {
        return Ok(());
    }
    let before = read(before_doc).map_err(Violation::malformed)?;
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
    let latest_seen = at_deps.latest_at();
    let at = |at| check_at(at, latest_seen, ctx.now);

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
    let before_ids: std::collections::HashSet<_> = before.messages.iter().map(|m| &m.id).collect();
    let principal_agent = ctx.principal.agent();
    for message in after
        .messages
        .iter()
        .filter(|m| !before_ids.contains(&m.id))
    {
        match &message.author {
            Author::Agent(author) if Some(author) == principal_agent => {}
            other => {
                return Err(Violation::ForgedAuthor {
                    claimed: describe(other),
                });
            }
        }
        at(message.at)?;
        if message.kind == MessageKind::Message {
            if at_deps.status == Status::Resolved {
                return Err(Violation::ConversationResolved);
            }
            let owner = at_deps.assignee();
            if ctx.workspace.settings.only_assignee_replies
                && owner.is_some_and(|owner| Some(owner) != principal_agent)
            {
                return Err(Violation::NotAssignee);
            }
        }
    }

    // The activity trail only grows; new entries are the principal's own.
    let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &after.activity {
        *remaining.entry(fingerprint(entry)).or_default() += 1;
    }
    for entry in &before.activity {
        match remaining.get_mut(&fingerprint(entry)) {
            Some(count) if *count > 0 => *count -= 1,
            _ => return Err(Violation::EditedActivity),
        }
    }
    let mut new_entries = Vec::new();
    for entry in &after.activity {
        if let Some(count) = remaining.get_mut(&fingerprint(entry)).filter(|c| **c > 0) {
            *count -= 1;
            new_entries.push(entry);
        }
    }
    for entry in new_entries {
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
        at(entry.at)?;
    }

    // Assignments are replaced whole; new ones are the principal's own.
    let before_values: HashMap<_, _> = read_assignments(before_doc)
        .map_err(Violation::malformed)?
        .into_iter()
        .map(|(value, id)| (id, value))
        .collect();
    for (value, id) in read_assignments(after_doc).map_err(Violation::malformed)? {
        match before_values.get(&id) {
            Some(old) if *old == value => continue,
            Some(_) => return Err(Violation::EditedAssignment),
            None => {}
        }
        if matches!(
            value.kind,
            AssignmentKind::Settled | AssignmentKind::Workflow
        ) {
            return Err(Violation::SystemActivity {
                what: format!("a {:?} assignment", value.kind.as_str()),
            });
        }
        check_by(&value.by, ctx.principal)?;
        if value.kind == AssignmentKind::Reply && value.agent.as_ref() != principal_agent {
            return Err(Violation::ForgedBy {
                by: format!(
                    "a claim by replying for {}",
                    value.agent.as_ref().map_or("nobody", |a| a.as_str())
                ),
                principal: ctx.principal.to_string(),
            });
        }
        at(value.at)?;
        if at_deps.status == Status::Resolved {
            return Err(Violation::ConversationResolved);
        }
        if let Some(agent) = &value.agent
            && !ctx.workspace.is_active(agent)
        {
            return Err(Violation::InactiveAssignee {
                agent: agent.clone(),
            });
        }
    }
    Ok(())
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

fn check_limits(conversation: &Conversation) -> Result<(), Violation> {
    check_size(
        "the number of messages",
        conversation.messages.len(),
        limits::MAX_MESSAGES,
    )?;
    check_size(
        "the activity trail",
        conversation.activity.len(),
        limits::MAX_ACTIVITY,
    )?;
    check_size(
        "the number of competing assignments",
        conversation.assignments.len(),
        limits::MAX_ASSIGNMENTS,
    )?;
    let mut total = 0;
    for message in &conversation.messages {
        check_size("a message", message.body.len(), limits::MAX_MESSAGE_BYTES)?;
        total += message.body.len();
    }
    check_size("the conversation", total, limits::MAX_CONVERSATION_BYTES)?;
    check_size(
        "the subject",
        conversation.subject.len(),
        limits::MAX_FIELD_BYTES,
    )
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

/// A stable text form of an activity entry, to compare trails as multisets.
fn fingerprint(entry: &crate::model::Activity) -> String {
    format!("{entry:?}")
}
