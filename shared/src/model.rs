//! Plain Rust values read out of conversation and workspace documents.
//!
//! These structs are what the rules, the server and the app reason about; the
//! `conversation` and `workspace` modules turn documents into them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};

use crate::ids::{AgentId, BatchId, ChannelId, ConversationId, MessageId, WorkflowId};

/// Milliseconds since the Unix epoch, as a hybrid logical timestamp (see `clock`).
pub type Millis = i64;

/// How an assignment came about; ranks decide concurrent writes (DESIGN §3).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AssignmentKind {
    /// Claimed by the first reply.
    Reply,
    /// Assign, Reassign, Unassign or a bulk action by a person.
    Manual,
    /// Written by a workflow's Assign step.
    Workflow,
    /// Written by the server to end a conflict between concurrent writes.
    Settled,
}

impl AssignmentKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Who did something: an agent, a workflow, or the server itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum By {
    /// An agent, by hand.
    Agent(AgentId),
    /// A workflow's step.
    Workflow(WorkflowId),
    /// The server itself (ingest, corrections).
    Server,
}

impl By {
    /// The agent, when a person did it.
    pub fn agent(&self) -> Option<&AgentId> {
        match self {
            By::Agent(agent) => Some(agent),
            _ => None,
        }
    }
}

impl fmt::Display for By {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            By::Agent(agent) => f.write_str(agent.as_str()),
            By::Workflow(workflow) => f.write_str(workflow.as_str()),
            By::Server => f.write_str("server"),
        }
    }
}

impl FromStr for By {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "server" {
            Ok(By::Server)
        } else if s.starts_with(WorkflowId::PREFIX) {
            s.parse().map(By::Workflow).map_err(|e| e.to_string())
        } else {
            s.parse().map(By::Agent).map_err(|e| e.to_string())
        }
    }
}

impl TryFrom<String> for By {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<By> for String {
    fn from(by: By) -> String {
        by.to_string()
    }
}

/// One value of a conversation's `assignee`: all four fields come from one write.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Assignment {
    /// The assignee, or `None` when the write left the conversation unassigned.
    pub agent: Option<AgentId>,
    /// How the assignment came about.
    pub kind: AssignmentKind,
    /// Who wrote it.
    pub by: By,
    /// When.
    pub at: Millis,
}

/// Whether a conversation still needs work.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    /// Needs work (new, or reopened).
    Open,
    /// Done; the assignee stays for the record.
    Resolved,
}

impl Status {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for Status {
    type Error = strum::ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// The person who wrote to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Customer {
    /// The customer's id in the channel they wrote from.
    pub id: String,
    /// Their name, possibly empty.
    pub name: String,
    /// Their email.
    pub email: String,
}

/// Who wrote a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Author {
    /// The customer.
    Customer,
    /// An agent.
    Agent(AgentId),
    /// Baton itself (a workflow's note).
    System,
}

/// A message to or from the customer, or an internal note between agents.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MessageKind {
    /// To or from the customer.
    Message,
    /// Between agents only.
    Note,
}

impl MessageKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One entry of a conversation's thread.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// A message or a note.
    pub kind: MessageKind,
    /// Who wrote it.
    pub author: Author,
    /// Its text.
    pub body: String,
    /// When it was written.
    pub at: Millis,
    /// Sent with "Reply and leave unassigned".
    pub leave_unassigned: bool,
}

/// What happened to a conversation, for its activity trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, IntoStaticStr)]
#[serde(tag = "event", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ActivityEvent {
    /// The customer opened the conversation.
    Created,
    /// Assigned (or reassigned) to `agent` by a person or a workflow.
    Assigned {
        /// The new assignee.
        agent: AgentId,
        /// Who held it before, if anyone.
        previous: Option<AgentId>,
        /// The bulk action or workflow run it was part of.
        batch: Option<BatchId>,
    },
    /// `agent` became the assignee by replying first.
    Claimed {
        /// The agent who replied first.
        agent: AgentId,
    },
    /// Left without an assignee.
    Unassigned {
        /// Who held it before, if anyone.
        previous: Option<AgentId>,
        /// The bulk action or workflow run it was part of.
        batch: Option<BatchId>,
    },
    /// The server ended a conflict between concurrent assignments.
    Settled {
        /// The assignee the rule chose (`None`: unassigned).
        winner: Option<AgentId>,
        /// The agents the competing values named.
        losers: Vec<AgentId>,
    },
    /// Marked resolved.
    Resolved,
    /// Reopened, by an agent or by a customer's message.
    Reopened,
}

impl ActivityEvent {
    /// The stored spelling of the event's name.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// One line of the activity trail.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Activity {
    /// When.
    pub at: Millis,
    /// Who did it.
    pub by: By,
    /// What happened.
    pub event: ActivityEvent,
}

/// A conversation document, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// The channel the customer wrote to.
    pub channel: ChannelId,
    /// The subject, as the customer gave it.
    pub subject: String,
    /// Who wrote.
    pub customer: Customer,
    /// When it began.
    pub created_at: Millis,
    /// Open or resolved.
    pub status: Status,
    /// Every competing value of `assignee` (one unless writes were concurrent).
    pub assignments: Vec<Assignment>,
    /// Messages and internal notes, oldest first.
    pub messages: Vec<Message>,
    /// The activity trail, oldest first.
    pub activity: Vec<Activity>,
}

impl Conversation {
    /// The latest timestamp anywhere in the conversation.
    pub fn latest_at(&self) -> Millis {
        let messages = self.messages.iter().map(|m| m.at);
        let activity = self.activity.iter().map(|a| a.at);
        let assignments = self.assignments.iter().map(|a| a.at);
        messages
            .chain(activity)
            .chain(assignments)
            .fold(self.created_at, Millis::max)
    }
}

/// An agent's role in the workspace.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, EnumString, IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// Manages the team, channels, settings and workflows.
    Admin,
    /// Works conversations.
    Agent,
}

impl Role {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl TryFrom<String> for Role {
    type Error = strum::ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A member of the support team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    /// Their id.
    pub id: AgentId,
    /// Their name, as the team sees it.
    pub name: String,
    /// Their sign-in email.
    pub email: String,
    /// Admin or agent.
    pub role: Role,
    /// Deactivated agents keep their history but take no new work.
    pub active: bool,
    /// Away agents are skipped by round-robin workflows.
    pub away: bool,
    /// Most open conversations this agent should hold; `None` for no limit.
    pub capacity: Option<u32>,
}

/// A channel customers write to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Its id.
    pub id: ChannelId,
    /// Its name, as agents see it.
    pub name: String,
    /// What sort of channel it is: "email", "chat", "form", …
    pub kind: String,
}

/// Workspace-wide settings (admin only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The workspace's name.
    pub name: String,
    /// When set, only the assignee may reply to an assigned conversation.
    pub only_assignee_replies: bool,
    /// When the team works, for workflows' business-hours conditions.
    pub business_hours: crate::hours::BusinessHours,
}
