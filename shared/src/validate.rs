//! Validation of one incoming change (DESIGN §5 "Trust" and "Refusal").
//!
//! A change is judged in three steps, each cheaper than the next and each
//! before the next may run:
//! 1. its shape ([`shape`]): a single change chunk within the limits on
//!    bytes, operations and columns, read without expanding it;
//! 2. its structure (here and [`ops`]): dependencies the document has, the
//!    operation counter automerge itself would write, room left in the
//!    document, and operations that only add or overwrite what a client
//!    may — all before the change touches any copy;
//! 3. its meaning ([`conversation`], [`workspace`]): applied to a fork, the
//!    document before and after is read and the principal bound to the
//!    change's actor must honestly have been able to make it.
//!
//! Only what an honest client cannot produce is refused; rules that depend
//! on state are judged at the change's own dependencies (and, for a change
//! made while its author was online, against the server's state as well:
//! [`online`]), and what concurrency made wrong later is fixed by
//! [`crate::operations::correct`].

mod conversation;
pub mod online;
mod ops;
pub mod shape;
mod workspace;

pub use online::{Made, OnlineHistory, Span, Windows};
pub use shape::{ChangeShape, canonical, change_shape, split_changes};

use std::fmt;

use automerge::{AutoCommit, Change, ChangeHash};
use serde::{Deserialize, Serialize};

use crate::ids::AgentId;
use crate::limits;
use crate::model::{By, Millis};
use crate::rules::RuleBroken;
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
    #[error(
        "timestamp {at} is more than {} s ahead of the server's clock ({now}); check this device's clock",
        limits::MAX_CLOCK_SKEW_MS / 1000
    )]
    TimeInFuture { at: Millis, now: Millis },
    #[error(
        "the change is stamped {at}, {why} ({now}); it was not accepted \
         (if this device's clock is wrong, set it right)"
    )]
    Backdated {
        at: Millis,
        now: Millis,
        why: String,
    },
    #[error(
        "the change's operation counter starts at {start_op}, but its dependencies end at {}; \
         automerge never writes that",
        expected - 1
    )]
    BadCounter { start_op: u64, expected: u64 },
    #[error(
        "the change deletes or replaces {what}, which already exists; changes may only add to it"
    )]
    Replaces { what: String },
    #[error("{what} are managed in Settings → Team (the team API), not by editing the workspace")]
    ApiOnly { what: String },
    #[error("{document} is full ({what} would pass {limit}); {advice}")]
    DocumentFull {
        document: String,
        what: String,
        limit: usize,
        advice: String,
    },
    #[error("the change is inconsistent: {reason}")]
    Inconsistent { reason: String },
    #[error("someone already holds this conversation; a reply no longer claims it")]
    AlreadyAssigned,
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

/// Which kind of Baton document a change is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Conversation,
    Workspace,
}

/// How much a stored document already holds, for its total limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Operations in every change of the document.
    pub ops: usize,
    /// Bytes of the document as stored.
    pub bytes: usize,
}

/// What a change is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub principal: &'a Principal,
    /// The workspace as the server holds it now.
    pub workspace: &'a Workspace,
    /// The server's clock, in ms since the epoch.
    pub now: Millis,
    /// When the server saw the principal's agent online.
    pub online: &'a OnlineHistory,
    /// What the document holds before this change.
    pub stored: Totals,
}

/// Validates one incoming change against `current` (the server's document).
/// On success returns the document with the change applied; `current` is
/// never modified, so a refused change leaves nothing behind. The caller
/// has read the chunk with [`change_shape`] before parsing it.
pub fn validate_change(
    current: &mut AutoCommit,
    change: &Change,
    kind: DocumentKind,
    ctx: &Context<'_>,
) -> Result<AutoCommit, Violation> {
    let size = change.raw_bytes().len();
    check_size("the change", size, limits::MAX_CHANGE_BYTES)?;
    check_size(
        "the change's operations",
        change.len(),
        limits::MAX_CHANGE_OPS,
    )?;
    if holds(current, &change.hash()) {
        return Ok(current.fork());
    }
    if change.deps().is_empty() && *ctx.principal != Principal::Server {
        return Err(Violation::CreatesDocument);
    }
    if change.deps().iter().any(|dep| !holds(current, dep)) {
        return Err(Violation::MissingDependencies);
    }
    check_counter(current, change)?;
    check_totals(kind, ctx.stored, change)?;
    if *ctx.principal != Principal::Server {
        ops::check(current, change, kind, ctx.principal)?;
    }
    let mut after = current.fork();
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

/// Automerge numbers a change's operations on from the largest counter
/// among its dependencies; a change that starts anywhere else was forged,
/// and one near the end of the counter's range breaks the document for
/// good (every later change overflows it).
fn check_counter(doc: &mut AutoCommit, change: &Change) -> Result<(), Violation> {
    let mut largest = 0;
    for dep in change.deps() {
        let meta = doc
            .get_change_meta_by_hash(dep)
            .ok_or(Violation::MissingDependencies)?;
        largest = largest.max(meta.max_op);
    }
    let expected = largest + 1;
    let start_op = change.start_op().get();
    if start_op != expected {
        return Err(Violation::BadCounter { start_op, expected });
    }
    Ok(())
}

/// A document's total operations and bytes stay within its limits.
fn check_totals(kind: DocumentKind, stored: Totals, change: &Change) -> Result<(), Violation> {
    let (document, ops_limit, advice) = match kind {
        DocumentKind::Conversation => (
            "this conversation",
            limits::MAX_CONVERSATION_OPS,
            "start a new conversation with the customer",
        ),
        DocumentKind::Workspace => (
            "the workspace",
            limits::MAX_WORKSPACE_OPS,
            "ask an admin to move the team to a new workspace",
        ),
    };
    let full = |what: &str, limit: usize| Violation::DocumentFull {
        document: document.to_owned(),
        what: what.to_owned(),
        limit,
        advice: advice.to_owned(),
    };
    if stored.ops.saturating_add(change.len()) > ops_limit {
        return Err(full("its operations", ops_limit));
    }
    if stored.bytes.saturating_add(change.raw_bytes().len()) > limits::MAX_DOCUMENT_BYTES {
        return Err(full("its stored bytes", limits::MAX_DOCUMENT_BYTES));
    }
    Ok(())
}

/// The total operations of `doc`, for [`Totals`] (from change metadata;
/// no change is rebuilt).
pub fn count_ops(doc: &mut AutoCommit) -> usize {
    doc.get_changes_meta(&[])
        .iter()
        .map(|c| (c.max_op + 1).saturating_sub(c.start_op) as usize)
        .sum()
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
