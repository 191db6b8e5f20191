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
mod violation;
mod workspace;

pub use online::{Made, OnlineHistory, Span, Windows};
pub use shape::{ChangeShape, canonical, change_shape, split_changes};
pub use violation::Violation;

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
/// # let mut server = conversation::create(&new)?;
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
