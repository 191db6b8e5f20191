//! Validation of one incoming change (DESIGN §5 "Trust" and "Refusal").
//!
//! A change is judged in three steps, each cheaper than the next and each
//! before the next may run:
//! 1. its shape ([`shape`]): a single change chunk within the limits on
//!    bytes, operations and columns, read without expanding it;
//! 2. its structure (here and `ops`): dependencies the document has, the
//!    operation counter automerge itself would write, room left in the
//!    document, and operations that only add or overwrite what a client
//!    may — all before the change touches any copy;
//! 3. its meaning (`conversation`, `workspace`): applied to a fork, the
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

/// Which kind of Baton document a change is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// A conversation document.
    Conversation,
    /// The workspace document.
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
    /// Who sent the change.
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
///
/// The rules of a conversation are those the app's operations check
/// ([`crate::rules`]); a refusal names the broken one with a stable
/// [`Violation::code`].
///
/// ```
/// # use baton_shared::conversation::{self, NewConversation};
/// # use baton_shared::ids::AgentId;
/// # use baton_shared::model::{Agent, Customer, Role};
/// # use baton_shared::workspace::Workspace;
/// # let mut workspace = Workspace::default();
/// # for name in ["Ana", "Ben"] {
/// #     let agent = Agent {
/// #         id: format!("agt_{}", name.to_lowercase()).parse()?,
/// #         name: name.to_owned(),
/// #         email: format!("{}@example.com", name.to_lowercase()),
/// #         role: Role::Agent,
/// #         active: true,
/// #         away: false,
/// #         capacity: None,
/// #     };
/// #     workspace.agents.insert(agent.id.clone(), agent);
/// # }
/// # let now = 1_700_000_000_000;
/// # let mut server = conversation::create(&NewConversation {
/// #     id: "cnv_refund".parse()?,
/// #     channel: "chn_email".parse()?,
/// #     subject: "Where is my refund?".to_owned(),
/// #     customer: Customer {
/// #         id: "cus_dee".to_owned(),
/// #         name: "Dee".to_owned(),
/// #         email: "dee@example.com".to_owned(),
/// #     },
/// #     at: now - 60_000,
/// # })?;
/// use automerge::ActorId;
/// use baton_shared::model::By;
/// use baton_shared::operations::{self, ReplyMode};
/// use baton_shared::validate::{self, Context, DocumentKind, OnlineHistory, Principal, Totals};
///
/// let ana: AgentId = "agt_ana".parse()?;
/// let ben: AgentId = "agt_ben".parse()?;
/// let by_ana = By::Agent(ana.clone());
/// operations::assign(&mut server, &workspace, &by_ana, Some(&ana), None, now)?;
///
/// // Ben replies on his copy, whose workspace does not have "only the
/// // assignee replies" on yet; the server's does.
/// let mut bens_copy = server.fork().with_actor(ActorId::random());
/// let mode = ReplyMode::Claim;
/// operations::reply(&mut bens_copy, &workspace, &ben, "I can help", mode, now)?;
/// let change = bens_copy.get_last_local_change().ok_or("no change")?;
/// let mut strict = workspace.clone();
/// strict.settings.only_assignee_replies = true;
/// let online = OnlineHistory::default();
/// let ctx = Context {
///     principal: &Principal::Agent(ben.clone()),
///     workspace: &strict,
///     now,
///     online: &online,
///     stored: Totals::default(),
/// };
/// let kind = DocumentKind::Conversation;
/// let refused = validate::validate_change(&mut server, &change, kind, &ctx);
/// assert_eq!(refused.map(|_| ()).map_err(|v| v.code()), Err("not_assignee"));
///
/// // Under the workspace Ben's copy had, the same change is accepted:
/// // the result is the server's document with it applied.
/// let ctx = Context { workspace: &workspace, ..ctx };
/// let after = validate::validate_change(&mut server, &change, kind, &ctx)?;
/// assert_eq!(conversation::read(&after)?.messages.len(), 1);
/// assert!(conversation::read(&server)?.messages.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
