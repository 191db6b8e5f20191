//! Why the server refuses a change: [`Violation`], with the words the agent
//! reads and a stable code the app and tests match on. A broken rule of
//! the conversation ([`RuleBroken`]) becomes one with `From`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::AgentId;
use crate::limits;
use crate::model::Millis;
use crate::rules::RuleBroken;

/// Why a change was refused. The text is meant for the agent's screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    /// The document after the change does not read as a Baton document.
    #[error("the change does not make a valid document: {reason}")]
    Malformed {
        /// What does not read.
        reason: String,
    },
    /// The change builds on changes the server has not received.
    #[error("the change depends on changes the server does not have yet")]
    MissingDependencies,
    /// A client tried to create a document.
    #[error("only the server creates documents")]
    CreatesDocument,
    /// A message credited to someone other than its sender.
    #[error("a message must be authored by its sender; this one claims to be from {claimed}")]
    ForgedAuthor {
        /// Who the message claims to be from.
        claimed: String,
    },
    /// Something only the server writes (a settlement, a workflow's assignment).
    #[error("{what} is written only by the server")]
    SystemActivity {
        /// What was written.
        what: String,
    },
    /// A `by` naming someone other than the sender.
    #[error("the change says it was made by {by}, but it was sent by {principal}")]
    ForgedBy {
        /// Who the change says made it.
        by: String,
        /// Who sent it.
        principal: String,
    },
    /// A field a conversation keeps from its creation was changed.
    #[error("the conversation's {field} cannot change")]
    ImmutableField {
        /// The field.
        field: String,
    },
    /// A message was edited or deleted.
    #[error("message {id} was edited or deleted; messages are permanent")]
    EditedMessage {
        /// The message's id.
        id: String,
    },
    /// An activity entry was edited or deleted.
    #[error("the activity trail was edited; it only grows")]
    EditedActivity,
    /// An assignment value was edited instead of replaced.
    #[error("an existing assignment was edited; assignments are replaced whole")]
    EditedAssignment,
    /// A workspace change only an admin may make.
    #[error("only an admin may change {what}")]
    AdminOnly {
        /// What was changed.
        what: String,
    },
    /// A timestamp earlier than what the change had seen.
    #[error("timestamp {at} is earlier than {latest}, the latest the change had seen")]
    TimeBeforeDependencies {
        /// The change's timestamp.
        at: Millis,
        /// The latest timestamp in the document it built on.
        latest: Millis,
    },
    /// A timestamp too far ahead of the server's clock.
    #[error(
        "timestamp {at} is more than {} s ahead of the server's clock ({now}); check this device's clock",
        limits::MAX_CLOCK_SKEW_MS / 1000
    )]
    TimeInFuture {
        /// The change's timestamp.
        at: Millis,
        /// The server's clock.
        now: Millis,
    },
    /// A change stamped at a time its author could not have made it.
    #[error(
        "the change is stamped {at}, {why} ({now}); it was not accepted \
         (if this device's clock is wrong, set it right)"
    )]
    Backdated {
        /// The change's timestamp.
        at: Millis,
        /// The server's clock.
        now: Millis,
        /// Why the time cannot be right.
        why: String,
    },
    /// An operation counter automerge would not have written.
    #[error(
        "the change's operation counter starts at {start_op}, but its dependencies end at {}; \
         automerge never writes that",
        expected - 1
    )]
    BadCounter {
        /// The counter the change starts at.
        start_op: u64,
        /// The counter it should start at.
        expected: u64,
    },
    /// A change that deletes or overwrites what may only be added to.
    #[error(
        "the change deletes or replaces {what}, which already exists; changes may only add to it"
    )]
    Replaces {
        /// What it deletes or replaces.
        what: String,
    },
    /// A workspace edit of what only the team API changes.
    #[error("{what} are managed in Settings → Team (the team API), not by editing the workspace")]
    ApiOnly {
        /// What was edited.
        what: String,
    },
    /// The document has reached its size limits.
    #[error("{document} is full ({what} would pass {limit}); {advice}")]
    DocumentFull {
        /// Which document.
        document: String,
        /// Which of its totals.
        what: String,
        /// The limit.
        limit: usize,
        /// What to do instead.
        advice: String,
    },
    /// The parts of the change do not agree with each other.
    #[error("the change is inconsistent: {reason}")]
    Inconsistent {
        /// What disagrees.
        reason: String,
    },
    /// A reply claimed a conversation someone holds.
    #[error("someone already holds this conversation; a reply no longer claims it")]
    AlreadyAssigned,
    /// Something over its size limit.
    #[error("{what} is {size}, over the limit of {limit}")]
    TooLarge {
        /// What is too large.
        what: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An assignment to an agent who is not active.
    #[error("{agent} is not an active agent of this workspace")]
    InactiveAssignee {
        /// The agent.
        agent: AgentId,
    },
    /// A reply or assignment on a resolved conversation.
    #[error("the conversation was resolved; reopen it first")]
    ConversationResolved,
    /// A reply by someone other than the assignee, with "only the assignee
    /// replies" on.
    #[error("only the assignee may reply to this conversation")]
    NotAssignee,
}

impl Violation {
    /// A stable machine-readable code, sent in `baton/error`.
    pub fn code(&self) -> &'static str {
        match self {
            Violation::Malformed { .. } => "malformed",
            Violation::MissingDependencies => "missing_dependencies",
            Violation::CreatesDocument => "creates_document",
            Violation::ForgedAuthor { .. } => "forged_author",
            Violation::SystemActivity { .. } => "system_activity",
            Violation::ForgedBy { .. } => "forged_by",
            Violation::ImmutableField { .. } => "immutable_field",
            Violation::EditedMessage { .. } => "edited_message",
            Violation::EditedActivity => "edited_activity",
            Violation::EditedAssignment => "edited_assignment",
            Violation::AdminOnly { .. } => "admin_only",
            Violation::TimeBeforeDependencies { .. } => "time_before_dependencies",
            Violation::TimeInFuture { .. } => "time_in_future",
            Violation::TooLarge { .. } => "too_large",
            Violation::InactiveAssignee { .. } => "inactive_assignee",
            Violation::ConversationResolved => "conversation_resolved",
            Violation::NotAssignee => "not_assignee",
            Violation::Backdated { .. } => "backdated",
            Violation::BadCounter { .. } => "bad_counter",
            Violation::Replaces { .. } => "replaces_existing",
            Violation::ApiOnly { .. } => "api_only",
            Violation::DocumentFull { .. } => "document_full",
            Violation::Inconsistent { .. } => "inconsistent",
            Violation::AlreadyAssigned => "already_assigned",
        }
    }

    pub(crate) fn malformed(reason: impl fmt::Display) -> Self {
        Violation::Malformed {
            reason: reason.to_string(),
        }
    }

    pub(crate) fn inconsistent(reason: impl fmt::Display) -> Self {
        Violation::Inconsistent {
            reason: reason.to_string(),
        }
    }
}

/// A broken rule, in the words and codes the server refuses changes with.
impl From<RuleBroken> for Violation {
    fn from(broken: RuleBroken) -> Self {
        match broken {
            RuleBroken::Resolved => Violation::ConversationResolved,
            RuleBroken::InactiveAgent(agent) => Violation::InactiveAssignee { agent },
            RuleBroken::NotAssignee => Violation::NotAssignee,
            RuleBroken::AlreadyAssigned => Violation::AlreadyAssigned,
        }
    }
}
