//! Why something could not be read, saved or done: the error types of the
//! bottom layer, so that every module above can return them without
//! depending on the module that happens to produce them most. Each is
//! re-exported where it is used: [`crate::ReadError`],
//! [`crate::workflow::WorkflowError`], [`crate::rules::RuleBroken`],
//! [`crate::operations::OpError`]. The server's refusal of an incoming
//! change, [`crate::validate::Violation`], stays with validation.

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ChannelId, WorkflowId};

/// Why a document does not read as a Baton document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// A field the layout requires is absent.
    #[error("missing field {0:?}")]
    Missing(String),
    /// A field holds a value of another type (text for a number, a list for a map).
    #[error("field {field:?} should be {expected}")]
    WrongType {
        /// The field, as the layout names it.
        field: String,
        /// What the layout wants there ("a map", "text", …).
        expected: &'static str,
    },
    /// A field has the right type but a value Baton does not accept.
    #[error("field {field:?}: {reason}")]
    Invalid {
        /// The field, as the layout names it.
        field: String,
        /// What is wrong with its value.
        reason: String,
    },
    /// A field the layout does not have; an honest client never writes one.
    #[error("unexpected field {0:?}")]
    Unexpected(String),
    /// Automerge itself could not read the document.
    #[error("document error: {0}")]
    Automerge(String),
}

impl From<automerge::AutomergeError> for ReadError {
    fn from(e: automerge::AutomergeError) -> Self {
        ReadError::Automerge(e.to_string())
    }
}

/// Why a workflow cannot be saved. The text is meant for the editor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum WorkflowError {
    /// The name is empty or too long.
    #[error("a workflow needs a name of 1 to {max} bytes")]
    Name {
        /// The longest name allowed, in bytes.
        max: usize,
    },
    /// A workflow that does nothing.
    #[error("a workflow needs at least one step")]
    NoSteps,
    /// Too many conditions or steps.
    #[error("a workflow has at most {max} conditions and {max} steps")]
    TooManyParts {
        /// The most of each allowed.
        max: usize,
    },
    /// An "unassigned for" trigger of zero or too many minutes.
    #[error("\"unassigned for\" needs 1 to {max} minutes")]
    Minutes {
        /// The longest wait allowed, in minutes.
        max: u32,
    },
    /// A "channel is one of" condition naming no channel.
    #[error("\"channel is one of\" needs at least one channel")]
    NoChannels,
    /// A "message text contains" condition with no text or too much.
    #[error("\"message text contains\" needs 1 to {max} bytes of text")]
    Text {
        /// The longest text allowed, in bytes.
        max: usize,
    },
    /// A "customer email domain" condition naming no domain.
    #[error("\"customer email domain\" needs at least one domain")]
    NoDomains,
    /// Something that is not an email domain.
    #[error("{0:?} is not an email domain (like example.com)")]
    Domain(String),
    /// A condition or step naming too many channels, agents or domains.
    #[error("a condition or step names at most {max} channels, agents or domains")]
    LongList {
        /// The most names allowed.
        max: usize,
    },
    /// An "add internal note" step with no text or too much.
    #[error("an internal note needs 1 to {max} bytes of text")]
    NoteBody {
        /// The longest note allowed, in bytes.
        max: usize,
    },
    /// A step naming an agent the workspace does not have.
    #[error("{0} is not an agent of this workspace")]
    UnknownAgent(AgentId),
    /// A condition naming a channel the workspace does not have.
    #[error("{0} is not a channel of this workspace")]
    UnknownChannel(ChannelId),
    /// The workspace already holds as many workflows as it may.
    #[error("a workspace holds at most {max} workflows")]
    TooMany {
        /// The most workflows a workspace holds.
        max: usize,
    },
    /// No workflow has this id.
    #[error("no workflow {0}")]
    Unknown(WorkflowId),
    /// A new order that leaves a workflow out or lists one twice.
    #[error("the new order must list every workflow exactly once")]
    Order,
    /// Business hours that do not make sense.
    #[error("business hours: {0}")]
    Hours(String),
}

/// A rule of the conversation that an action, or a change, would break
/// ([`crate::rules`] holds the rules themselves).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleBroken {
    /// A resolved conversation takes no reply and no assignment.
    #[error("the conversation is resolved; reopen it first")]
    Resolved,
    /// The agent was deactivated (or never was on the team).
    #[error("{0} is not an active agent of this workspace")]
    InactiveAgent(AgentId),
    /// "Only the assignee replies" is on and someone else holds the conversation.
    #[error("only the assignee may reply to this conversation")]
    NotAssignee,
    /// A reply tried to claim a conversation someone holds.
    #[error("someone already holds this conversation; a reply no longer claims it")]
    AlreadyAssigned,
}

/// Why an operation could not be applied; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    /// The action breaks a rule of the conversation.
    #[error(transparent)]
    Rule(#[from] RuleBroken),
    /// Reopen on a conversation that is open.
    #[error("the conversation is already open")]
    AlreadyOpen,
    /// Resolve on a conversation that is resolved.
    #[error("the conversation is already resolved")]
    AlreadyResolved,
    /// A message or note with nothing but whitespace.
    #[error("a message needs some text")]
    EmptyBody,
    /// A message or note over the size limit.
    #[error("the message is {size} bytes; the limit is {limit}")]
    TooLarge {
        /// The message's size, in bytes.
        size: usize,
        /// The largest message allowed, in bytes.
        limit: usize,
    },
    /// The conversation holds all the messages, bytes or activity it may.
    #[error("this conversation has reached its limit of {limit} {what}; start a new conversation")]
    ConversationFull {
        /// What is full: "messages", "bytes of messages", "activity entries".
        what: &'static str,
        /// The limit it reached.
        limit: usize,
    },
    /// The document does not read as a Baton document.
    #[error("this conversation is unreadable: {0}")]
    Read(#[from] ReadError),
    /// A workflow (or the order of workflows) cannot be saved.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// Automerge refused the write.
    #[error("document error: {0}")]
    Automerge(String),
}

impl From<automerge::AutomergeError> for OpError {
    fn from(e: automerge::AutomergeError) -> Self {
        OpError::Automerge(e.to_string())
    }
}
