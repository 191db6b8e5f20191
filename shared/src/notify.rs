//! Who is told about what (DESIGN §4), as pure functions of the
//! conversation before and after a change and the workspace: [`plan`]
//! decides every notice a change calls for (recipients, what each is told,
//! one notice per person), [`lost`] the notices of a settled conflict, and
//! [`NoticeKind::words`] what the agent reads. The server stores and pushes
//! what this decides; the app shows it with the same words.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::assignment::Conflict;
use crate::ids::{AgentId, BatchId};
use crate::model::{ActivityEvent, Author, By, Conversation};
use crate::workspace::Workspace;

/// Something that happened to a conversation that people may need to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new conversation, or a new customer message on an existing one.
    CustomerMessage,
    /// The assignee changed from `previous` to the conversation's current
    /// assignee (an assign, reassign, unassign, claim, workflow or settlement).
    AssignmentChanged {
        /// Who held it before, if anyone.
        previous: Option<AgentId>,
        /// Who made the change.
        by: By,
    },
}

/// Why someone is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The conversation is unassigned and they are signed up for its channel.
    Subscribed,
    /// They are the assignee.
    Assignee,
    /// It was just assigned to them.
    AssignedToYou,
    /// It was theirs and has moved to someone else (or to nobody).
    MovedAway,
}

/// One agent to tell, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Recipient {
    /// The agent to tell.
    pub agent: AgentId,
    /// Why they are told.
    pub reason: Reason,
}

/// What one person is told.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum NoticeKind {
    /// The customer wrote to an unassigned conversation on your channel.
    NewMessage,
    /// The customer wrote again to your conversation.
    AssigneeMessage,
    /// It was assigned to you.
    AssignedToYou,
    /// It was yours and went to someone else.
    MovedAway,
    /// It was left unassigned, on a channel you are signed up for.
    LeftUnassigned,
    /// Your decision lost to one made at the same time (the server settled).
    Lost,
}

impl TryFrom<String> for NoticeKind {
    type Error = strum::ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl NoticeKind {
    /// Why the person is told, in the terms of [`recipients`].
    pub fn reason(self) -> Reason {
        match self {
            NoticeKind::NewMessage | NoticeKind::LeftUnassigned => Reason::Subscribed,
            NoticeKind::AssigneeMessage => Reason::Assignee,
            NoticeKind::AssignedToYou => Reason::AssignedToYou,
            NoticeKind::MovedAway | NoticeKind::Lost => Reason::MovedAway,
        }
    }

    /// What the agent reads: `actor` did it (a name), to `subject`, and
    /// `count` conversations of one batch.
    pub fn words(self, actor: &str, subject: &str, count: u32) -> String {
        let many = count > 1;
        match self {
            NoticeKind::Lost => {
                format!(
                    "{actor} holds “{subject}”: a change made at the same time as yours came first"
                )
            }
            NoticeKind::AssigneeMessage => format!("{actor} wrote again: “{subject}”"),
            NoticeKind::NewMessage => format!("New message from {actor}: “{subject}”"),
            NoticeKind::AssignedToYou if many => {
                format!("{actor} assigned you {count} conversations")
            }
            NoticeKind::AssignedToYou => format!("{actor} assigned you “{subject}”"),
            NoticeKind::MovedAway if many => {
                format!("{actor} moved {count} of your conversations to someone else")
            }
            NoticeKind::MovedAway => format!("{actor} moved “{subject}” to someone else"),
            NoticeKind::LeftUnassigned if many => {
                format!("{actor} left {count} conversations unassigned")
            }
            NoticeKind::LeftUnassigned => format!("“{subject}” is unassigned"),
        }
    }
}

/// One notice a change calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The agent told.
    pub agent: AgentId,
    /// What they are told.
    pub kind: NoticeKind,
    /// The name of whoever caused it, as the workspace knows them now.
    pub actor: String,
    /// A bulk action or a workflow run: its notices to one person are one,
    /// named by who made the batch and the batch.
    pub batch: Option<String>,
}

/// The name to show for whoever did something.
pub fn name_of(by: &By, workspace: &Workspace) -> String {
    match by {
        By::Agent(agent) => workspace
            .agent(agent)
            .map_or_else(|| "A former agent".to_owned(), |a| a.name.clone()),
        By::Workflow(workflow) => workspace.workflows.get(workflow).map_or_else(
            || "A workflow".to_owned(),
            |w| format!("Workflow “{}”", w.name),
        ),
        By::Server => "Baton".to_owned(),
    }
}

/// Every notice the change from `before` (`None` for a new conversation)
/// to `after` calls for, one per person: being handed a conversation says
/// more than "the customer wrote", which says more than "it moved".
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
/// use baton_shared::notify::{self, NoticeKind};
/// use baton_shared::operations;
///
/// let ana: AgentId = "agt_ana".parse()?;
/// let ben: AgentId = "agt_ben".parse()?;
/// let before = conversation::read(&doc)?;
/// operations::assign(&mut doc, &workspace, &By::Agent(ana), Some(&ben), None, now)?;
/// let after = conversation::read(&doc)?;
///
/// // Ana handed it to Ben: Ben is told, Ana (who did it) is not.
/// let notices = notify::plan(Some(&before), &after, &workspace);
/// assert_eq!(notices.len(), 1);
/// assert_eq!(notices[0].agent, ben);
/// assert_eq!(notices[0].kind, NoticeKind::AssignedToYou);
/// let words = notices[0].kind.words(&notices[0].actor, &after.subject, 1);
/// assert_eq!(words, "Ana assigned you “Where is my refund?”");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan(
    before: Option<&Conversation>,
    after: &Conversation,
    workspace: &Workspace,
) -> Vec<Notice> {
    let known: HashSet<_> = before
        .map(|b| b.messages.iter().map(|m| &m.id).collect())
        .unwrap_or_default();
    let customer_wrote = after
        .messages
        .iter()
        .any(|m| m.author == Author::Customer && !known.contains(&m.id));
    let mut assignment = Vec::new();
    // A new conversation starts unassigned, so one assigned at once (by a
    // workflow in the same change) counts as an assignment too.
    let previous = before.and_then(|b| b.assignee().cloned());
    if previous.as_ref() != after.assignee() {
        let by = after
            .effective_assignment()
            .map(|a| a.by.clone())
            .unwrap_or(By::Server);
        let batch = new_batch(before, after).map(|batch| format!("{by}/{batch}"));
        let actor = name_of(&by, workspace);
        let event = Event::AssignmentChanged { previous, by };
        for r in recipients(&event, after, workspace) {
            let kind = match r.reason {
                Reason::AssignedToYou => NoticeKind::AssignedToYou,
                Reason::MovedAway => NoticeKind::MovedAway,
                Reason::Subscribed | Reason::Assignee => NoticeKind::LeftUnassigned,
            };
            assignment.push(Notice {
                agent: r.agent,
                kind,
                actor: actor.clone(),
                batch: batch.clone(),
            });
        }
    }
    let (mut notices, rest): (Vec<_>, Vec<_>) = assignment
        .into_iter()
        .partition(|n| n.kind == NoticeKind::AssignedToYou);
    if customer_wrote {
        let handed: HashSet<_> = notices.iter().map(|n| n.agent.clone()).collect();
        for r in recipients(&Event::CustomerMessage, after, workspace) {
            if !handed.contains(&r.agent) {
                notices.push(Notice {
                    agent: r.agent,
                    kind: match r.reason {
                        Reason::Assignee => NoticeKind::AssigneeMessage,
                        _ => NoticeKind::NewMessage,
                    },
                    actor: after.customer.name.clone(),
                    batch: None,
                });
            }
        }
    }
    let told: HashSet<_> = notices.iter().map(|n| n.agent.clone()).collect();
    notices.extend(rest.into_iter().filter(|n| !told.contains(&n.agent)));
    notices
}

/// The notices of a conflict the server settled: whoever's own decision
/// lost is told who holds the conversation now, unless they are among
/// `moved` (already told it moved away from them).
pub fn lost(conflict: &Conflict, moved: &[AgentId], workspace: &Workspace) -> Vec<Notice> {
    let actor = match &conflict.winner.agent {
        Some(agent) => name_of(&By::Agent(agent.clone()), workspace),
        None => "Nobody".to_owned(),
    };
    conflict
        .overruled
        .iter()
        .filter(|loser| workspace.is_active(loser))
        .filter(|loser| !moved.contains(loser))
        .map(|loser| Notice {
            agent: loser.clone(),
            kind: NoticeKind::Lost,
            actor: actor.clone(),
            batch: None,
        })
        .collect()
}

/// The batch of the assignment entry this change added, if any.
fn new_batch(before: Option<&Conversation>, after: &Conversation) -> Option<BatchId> {
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

/// The agents to notify of `event` on `conversation` (after the event), never
/// the agent who caused it, only active agents, each at most once.
pub fn recipients(
    event: &Event,
    conversation: &Conversation,
    workspace: &Workspace,
) -> Vec<Recipient> {
    let mut told: BTreeMap<AgentId, Reason> = BTreeMap::new();
    let assignee = conversation.assignee();
    let subscribers = || workspace.subscribers(&conversation.channel).cloned();
    let actor = match event {
        Event::CustomerMessage => None,
        Event::AssignmentChanged { by, .. } => by.agent(),
    };
    match event {
        Event::CustomerMessage => match assignee {
            Some(agent) => {
                told.insert(agent.clone(), Reason::Assignee);
            }
            None => told.extend(subscribers().map(|a| (a, Reason::Subscribed))),
        },
        Event::AssignmentChanged { previous, .. } => {
            if previous.as_ref() == assignee {
                return Vec::new();
            }
            match assignee {
                Some(agent) => {
                    told.insert(agent.clone(), Reason::AssignedToYou);
                }
                None => told.extend(subscribers().map(|a| (a, Reason::Subscribed))),
            }
            if let Some(previous) = previous {
                told.insert(previous.clone(), Reason::MovedAway);
            }
        }
    }
    told.into_iter()
        .filter(|(agent, _)| Some(agent) != actor && workspace.is_active(agent))
        .map(|(agent, reason)| Recipient { agent, reason })
        .collect()
}

#[cfg(test)]
mod tests;
