//! What a committed conversation change means outside the document: the
//! projection row lists read, the replies to deliver to the customer, and
//! the notifications DESIGN §4 calls for.

use std::collections::HashSet;

use baton_shared::ids::DocumentId;
use baton_shared::model::{ActivityEvent, Author, By, Conversation, MessageKind};
use baton_shared::notify::{Event, Reason, recipients};
use baton_shared::workflow::TriggerEvent;
use baton_shared::workspace::Workspace;

use crate::store::{ConversationRow, NotificationRow, ReplyRow};

const PREVIEW_CHARS: usize = 140;

/// The projection row of a conversation.
pub fn conversation_row(conversation: &Conversation, document: DocumentId) -> ConversationRow {
    let last = conversation
        .messages
        .iter()
        .rev()
        .find(|m| m.kind == MessageKind::Message);
    let preview = last
        .map(|m| {
            let flat: String = m.body.split_whitespace().collect::<Vec<_>>().join(" ");
            flat.chars().take(PREVIEW_CHARS).collect()
        })
        .unwrap_or_default();
    ConversationRow {
        id: conversation.id.clone(),
        document,
        channel: conversation.channel.clone(),
        subject: conversation.subject.clone(),
        customer_name: conversation.customer.name.clone(),
        customer_email: conversation.customer.email.clone(),
        status: conversation.status.as_str().to_owned(),
        assignee: conversation.assignee().cloned(),
        created_at: conversation.created_at,
        last_activity_at: conversation.latest_at(),
        preview,
        messages: u32::try_from(conversation.messages.len()).unwrap_or(u32::MAX),
        unassigned_since: TriggerEvent::unassigned(conversation).map(|event| event.at),
    }
}

/// Agents' replies (not notes) that `after` has and `before` had not.
pub fn new_replies(before: Option<&Conversation>, after: &Conversation) -> Vec<ReplyRow> {
    let known: HashSet<_> = before
        .map(|b| b.messages.iter().map(|m| &m.id).collect())
        .unwrap_or_default();
    after
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::Message && !known.contains(&m.id))
        .filter_map(|m| match &m.author {
            Author::Agent(agent) => Some(ReplyRow {
                seq: 0,
                message: m.id.to_string(),
                channel: after.channel.clone(),
                conversation: after.id.clone(),
                author: agent.clone(),
                body: m.body.clone(),
                at: m.at,
                customer_email: after.customer.email.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// The notifications a change from `before` to `after` calls for.
pub fn notifications(
    before: Option<&Conversation>,
    after: &Conversation,
    document: DocumentId,
    workspace: &Workspace,
) -> Vec<NotificationRow> {
    let known: HashSet<_> = before
        .map(|b| b.messages.iter().map(|m| &m.id).collect())
        .unwrap_or_default();
    let customer_wrote = after
        .messages
        .iter()
        .any(|m| m.author == Author::Customer && !known.contains(&m.id));
    let at = after.latest_at();
    // (agent, event, reason, actor, batch) for each recipient.
    let mut assignment = Vec::new();
    // A new conversation starts unassigned, so one that is assigned at once
    // (by a workflow in the same change) counts as an assignment too.
    let previous = before.and_then(|b| b.assignee().cloned());
    if previous.as_ref() != after.assignee() {
        let by = after
            .effective_assignment()
            .map(|a| a.by.clone())
            .unwrap_or(By::Server);
        // A batch is named per author: reusing someone else's batch id
        // can neither join their notification nor mark it unread again.
        let batch = new_batch(before, after).map(|batch| format!("{by}/{batch}"));
        let actor = Some(actor_name(&by, workspace));
        let event = Event::AssignmentChanged { previous, by };
        for r in recipients(&event, after, workspace) {
            assignment.push((
                r.agent,
                "assignment",
                r.reason,
                actor.clone(),
                batch.clone(),
            ));
        }
    }
    // "Assigned to you" says more than "wrote again"; otherwise the message
    // notification wins and each agent is told once.
    let (mut pending, rest): (Vec<_>, Vec<_>) = assignment
        .into_iter()
        .partition(|p| p.2 == Reason::AssignedToYou);
    if customer_wrote {
        let handed: HashSet<_> = pending.iter().map(|p| p.0.clone()).collect();
        for r in recipients(&Event::CustomerMessage, after, workspace) {
            if !handed.contains(&r.agent) {
                let actor = Some(after.customer.name.clone());
                pending.push((r.agent, "message", r.reason, actor, None));
            }
        }
    }
    let told: HashSet<_> = pending.iter().map(|p| p.0.clone()).collect();
    pending.extend(rest.into_iter().filter(|p| !told.contains(&p.0)));
    pending
        .into_iter()
        .map(|(agent, event, reason, actor, batch)| NotificationRow {
            id: notification_id(&agent, batch.as_deref()),
            agent,
            conversation: after.id.clone(),
            document,
            event: event.to_owned(),
            reason: reason_name(reason).to_owned(),
            actor,
            subject: after.subject.clone(),
            batch,
            count: 1,
            at,
            read: false,
        })
        .collect()
}

/// Tells `loser` that a concurrent change of theirs lost to `winner`'s
/// (the server settles a conflict and notifies whoever lost).
pub fn lost_conflict(
    conversation: &Conversation,
    document: DocumentId,
    loser: baton_shared::ids::AgentId,
    winner: Option<&baton_shared::ids::AgentId>,
    workspace: &Workspace,
) -> NotificationRow {
    let actor = match winner {
        Some(agent) => actor_name(&By::Agent(agent.clone()), workspace),
        None => "Nobody".to_owned(),
    };
    NotificationRow {
        id: notification_id(&loser, None),
        agent: loser,
        conversation: conversation.id.clone(),
        document,
        event: "settled".to_owned(),
        reason: reason_name(Reason::MovedAway).to_owned(),
        actor: Some(actor),
        subject: conversation.subject.clone(),
        batch: None,
        count: 1,
        at: conversation.latest_at(),
        read: false,
    }
}

/// A batch's notification for one agent has one id, so every change of the
/// batch lands on the same row (and the same entry in the app's list).
fn notification_id(agent: &baton_shared::ids::AgentId, batch: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    let bytes = match batch {
        Some(batch) => Sha256::digest(format!("{agent}/{batch}").as_bytes())[..16].to_vec(),
        None => baton_shared::ids::random_bytes().to_vec(),
    };
    format!("ntf_{}", hex::encode(bytes))
}

/// The batch id of the assignment entries this change added, if any.
fn new_batch(
    before: Option<&Conversation>,
    after: &Conversation,
) -> Option<baton_shared::ids::BatchId> {
    let seen = before.map_or(0, |b| b.activity.len());
    after
        .activity
        .iter()
        .skip(seen)
        .find_map(|entry| match &entry.event {
            ActivityEvent::Assigned { batch, .. } | ActivityEvent::Unassigned { batch, .. } => {
                batch.clone()
            }
            _ => None,
        })
}

/// The name to show for whoever did something.
pub fn actor_name(by: &By, workspace: &Workspace) -> String {
    match by {
        By::Agent(agent) => workspace
            .agent(agent)
            .map_or_else(|| agent.to_string(), |a| a.name.clone()),
        By::Workflow(workflow) => workspace.workflows.get(workflow).map_or_else(
            || "A workflow".to_owned(),
            |w| format!("Workflow “{}”", w.name),
        ),
        By::Server => "Baton".to_owned(),
    }
}

pub fn reason_name(reason: Reason) -> &'static str {
    match reason {
        Reason::Subscribed => "subscribed",
        Reason::Assignee => "assignee",
        Reason::AssignedToYou => "assigned_to_you",
        Reason::MovedAway => "moved_away",
    }
}

pub fn parse_reason(text: &str) -> Reason {
    match text {
        "assignee" => Reason::Assignee,
        "assigned_to_you" => Reason::AssignedToYou,
        "moved_away" => Reason::MovedAway,
        _ => Reason::Subscribed,
    }
}

/// What the agent reads for a stored notification.
pub fn render(row: &NotificationRow) -> String {
    let actor = row.actor.as_deref().unwrap_or("Someone");
    let subject = &row.subject;
    let many = row.count > 1;
    match (row.event.as_str(), parse_reason(&row.reason)) {
        ("settled", _) => {
            format!("{actor} holds “{subject}”: a change made at the same time as yours came first")
        }
        ("message", Reason::Assignee) => format!("{actor} wrote again: “{subject}”"),
        ("message", _) => format!("New message from {actor}: “{subject}”"),
        (_, Reason::AssignedToYou) if many => {
            format!("{actor} assigned you {} conversations", row.count)
        }
        (_, Reason::AssignedToYou) => format!("{actor} assigned you “{subject}”"),
        (_, Reason::MovedAway) if many => {
            format!(
                "{actor} moved {} of your conversations to someone else",
                row.count
            )
        }
        (_, Reason::MovedAway) => format!("{actor} moved “{subject}” to someone else"),
        (_, Reason::Subscribed) if many => {
            format!("{actor} left {} conversations unassigned", row.count)
        }
        (_, _) => format!("“{subject}” is unassigned"),
    }
}
