//! Validation of one incoming change (DESIGN §5 "Trust" and "Refusal").
//!
//! The server applies each change to a fork of its document, reads the
//! document before and after, and asks this module whether the principal
//! bound to the change's actor could honestly have produced it. Only what an
//! honest client cannot produce is refused; rules that depend on state are
//! judged against the document at the change's own dependencies, and what
//! concurrency made wrong later is fixed by [`crate::operations::correct`].

mod conversation;
mod workspace;

use std::fmt;

use automerge::{AutoCommit, Change, ChangeHash};
use serde::{Deserialize, Serialize};

use crate::ids::AgentId;
use crate::limits;
use crate::model::{By, Millis};
use crate::workspace::Workspace;

/// Who a change is credited to: the principal bound to its actor id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "agent", rename_all = "snake_case")]
pub enum Principal {
    /// An agent signed in to the app.
    Agent(AgentId),
    /// An admin signed in to the app.
    Admin(AgentId),
    /// An integration using an API token issued for an agent; it acts as that
    /// agent but never with admin rights.
    Integration(AgentId),
    /// The server itself (ingest, workflows, corrections).
    Server,
}

impl Principal {
    /// The agent acting, unless it is the server.
    pub fn agent(&self) -> Option<&AgentId> {
        match self {
            Principal::Agent(a) | Principal::Admin(a) | Principal::Integration(a) => Some(a),
            Principal::Server => None,
        }
    }

    /// Whether this principal may change admin-only workspace fields.
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::Admin(_) | Principal::Server)
    }

    /// The `by` an honest client of this principal writes.
    pub fn by(&self) -> By {
        match self.agent() {
            Some(agent) => By::Agent(agent.clone()),
            None => By::Server,
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Agent(a) => write!(f, "agent {a}"),
            Principal::Admin(a) => write!(f, "admin {a}"),
            Principal::Integration(a) => write!(f, "integration token of {a}"),
            Principal::Server => f.write_str("the server"),
        }
    }
}

/// Why a change was refused. The text is meant for the agent's screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Violation {
    #[error("the change does not make a valid document: {reason}")]
    Malformed { reason: String },
    #[error("the change depends on changes the server does not have yet")]
    MissingDependencies,
    #[error("only the server creates documents")]
    CreatesDocument,
    #[error("a message must be authored by its sender; this one claims to be from {claimed}")]
    ForgedAuthor { claimed: String },
    #[error("{what} is written only by the server")]
    SystemActivity { what: String },
    #[error("the change says it was made by {by}, but it was sent by {principal}")]
    ForgedBy { by: String, principal: String },
    #[error("the conversation's {field} cannot change")]
    ImmutableField { field: String },
    #[error("message {id} was edited or deleted; messages are permanent")]
    EditedMessage { id: String },
    #[error("the activity trail was edited; it only grows")]
    EditedActivity,
    #[error("an existing assignment was edited; assignments are replaced whole")]
    EditedAssignment,
    #[error("only an admin may change {what}")]
    AdminOnly { what: String },
    #[error("timestamp {at} is earlier than {latest}, the latest the change had seen")]
    TimeBeforeDependencies { at: Millis, latest: Millis },
    #[error("timestamp {at} is more than 60 s ahead of the server's clock ({now})")]
    TimeInFuture { at: Millis, now: Millis },
    #[error("{what} is {size}, over the limit of {limit}")]
    TooLarge {
        what: String,
        size: usize,
        limit: usize,
    },
    #[error("{agent} is not an active agent of this workspace")]
    InactiveAssignee { agent: AgentId },
    #[error("the conversation was resolved; reopen it first")]
    ConversationResolved,
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
        }
    }

    pub(crate) fn malformed(reason: impl fmt::Display) -> Self {
        Violation::Malformed {
            reason: reason.to_string(),
        }
    }
}

/// Which kind of Baton document a change is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Conversation,
    Workspace,
}

/// What a change is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub principal: &'a Principal,
    /// The workspace as the server holds it now.
    pub workspace: &'a Workspace,
    /// The server's clock, in ms since the epoch.
    pub now: Millis,
}

/// Validates one incoming change against `current` (the server's document).
/// On success returns the document with the change applied; `current` is
/// never modified, so a refused change leaves nothing behind.
pub fn validate_change(
    current: &mut AutoCommit,
    change: &Change,
    kind: DocumentKind,
    ctx: &Context<'_>,
) -> Result<AutoCommit, Violation> {
    let size = change.raw_bytes().len();
    if size > limits::MAX_CHANGE_BYTES {
        return Err(Violation::TooLarge {
            what: "the change".to_owned(),
            size,
            limit: limits::MAX_CHANGE_BYTES,
        });
    }
    let mut after = current.fork();
    if holds(current, &change.hash()) {
        return Ok(after);
    }
    if change.deps().is_empty() && *ctx.principal != Principal::Server {
        return Err(Violation::CreatesDocument);
    }
    if change.deps().iter().any(|dep| !holds(current, dep)) {
        return Err(Violation::MissingDependencies);
    }
    after
        .apply_changes([change.clone()])
        .map_err(Violation::malformed)?;
    // Applied, not queued: a queued change would pass the checks below unread.
    if !after.get_heads().contains(&change.hash()) {
        return Err(Violation::MissingDependencies);
    }
    match kind {
        DocumentKind::Conversation => {
            // A client in step with the server builds on its heads, so the
            // document as the change saw it is `current`: no fork needed.
            let mut deps = change.deps().to_vec();
            deps.sort();
            let mut heads = current.get_heads();
            heads.sort();
            if deps == heads {
                conversation::check(current, &after, None, ctx)?;
            } else {
                let at_deps = current
                    .fork_at(change.deps())
                    .map_err(Violation::malformed)?;
                conversation::check(current, &after, Some(&at_deps), ctx)?;
            }
        }
        DocumentKind::Workspace => workspace::check(current, &after, ctx)?,
    }
    Ok(after)
}

/// Whether `doc` has the change `hash`. Asks the change graph; looking the
/// change up by hash would rebuild its bytes.
fn holds(doc: &mut AutoCommit, hash: &ChangeHash) -> bool {
    doc.get_missing_deps(&[*hash]).is_empty()
}

/// Refuses a timestamp earlier than what the change had seen or too far ahead.
pub(crate) fn check_at(at: Millis, latest_seen: Millis, now: Millis) -> Result<(), Violation> {
    if at < latest_seen {
        return Err(Violation::TimeBeforeDependencies {
            at,
            latest: latest_seen,
        });
    }
    if at > now.saturating_add(limits::MAX_CLOCK_SKEW_MS) {
        return Err(Violation::TimeInFuture { at, now });
    }
    Ok(())
}

pub(crate) fn check_size(what: &str, size: usize, limit: usize) -> Result<(), Violation> {
    if size > limit {
        Err(Violation::TooLarge {
            what: what.to_owned(),
            size,
            limit,
        })
    } else {
        Ok(())
    }
}
