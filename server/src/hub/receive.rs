//! Changes arriving over live sync, in named steps:
//! 1. [`admit`]: the message's changes are read for their shape (bounded
//!    work, whatever they claim) and parsed, before anything is applied;
//! 2. [`Hub::validate_incoming`]: in dependency order, each change is bound
//!    to its principal and judged on its own against the held copy; what
//!    passes is applied, the first refusal ends the message;
//! 3. [`Hub::commit_received`]: accepted changes are made durable with
//!    their actors' bindings, projection, replies and notifications;
//! 4. [`Hub::correct_received`]: the server settles what concurrency made
//!    wrong and tells whoever lost;
//! 5. workflows fire for a conversation an agent reopened.
//!
//! A refused change leaves nothing behind, and a failed commit takes nothing
//! with it: the held copy is dropped and reloads from the store.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use baton_shared::automerge::sync::{self, ChunkList, SyncDoc};
use baton_shared::automerge::{AutoCommit, Change, ChangeHash};
use baton_shared::conversation;
use baton_shared::ids::DocumentId;
use baton_shared::limits;
use baton_shared::model::Conversation;
use baton_shared::notify::{self, NoticeKind};
use baton_shared::operations::{Correction, OpError, correct};
use baton_shared::validate::{
    self, Context, OnlineHistory, Principal, Violation, change_shape, split_changes,
    validate_change,
};
use baton_shared::workflow::{EventKind, TriggerEvent, events_between};
use baton_shared::workspace::Workspace;

use super::{Hub, HubError, SERVER_PRINCIPAL};
use crate::resident::Locked;
use crate::store::{DocumentKind, NotificationRow, Write};

/// What receiving one sync message did.
#[derive(Debug, Default)]
pub struct Received {
    /// The answer to send back to the peer.
    pub reply: Option<sync::Message>,
    /// Why the peer's change was refused, if it was.
    pub refused: Option<Violation>,
    /// Whether the document changed (others must hear of it).
    pub changed: bool,
    pub notifications: Vec<NotificationRow>,
}

/// What the server keeps for one peer and one document between messages.
#[derive(Debug, Default)]
pub struct PeerDoc {
    /// Automerge's sync state with the peer.
    pub state: sync::State,
    /// Changes that came before a change they depend on. A peer skips a
    /// change our bloom filter wrongly says we have and sends its successors;
    /// it counts those as sent and never sends them again, so they wait here
    /// (as in automerge's own queue) until the gap is filled.
    early: Vec<Change>,
}

impl PeerDoc {
    /// Bytes of changes waiting for a change they depend on.
    pub fn waiting_bytes(&self) -> usize {
        self.early.iter().map(|c| c.raw_bytes().len()).sum()
    }

    /// Forgets what the peer claimed to have: the next exchange starts over.
    fn reset(&mut self) {
        self.state = sync::State::new();
        self.early.clear();
    }
}

/// Who sends changes over one connection.
#[derive(Debug, Clone)]
pub struct Sender {
    pub principal: Principal,
    /// When the server saw the principal's agent online (this connection
    /// included), for judging timestamps.
    pub online: Arc<OnlineHistory>,
}

impl Sender {
    /// A sender the server saw online for the whole of this connection only.
    pub fn new(principal: Principal, online: OnlineHistory) -> Self {
        Sender {
            principal,
            online: Arc::new(online),
        }
    }
}

/// Whether `doc` holds the change `hash` (by its graph; `get_change_by_hash`
/// would rebuild the whole change).
fn holds(doc: &mut AutoCommit, hash: &ChangeHash) -> bool {
    doc.get_missing_deps(std::slice::from_ref(hash)).is_empty()
}

/// Reads a message's changes: each must be a change chunk within the limits
/// ([`change_shape`]) before automerge parses it at all.
pub fn admit(chunks: &ChunkList) -> Result<Vec<Change>, Violation> {
    let mut changes = Vec::new();
    for chunk in chunks.iter() {
        for part in split_changes(chunk)? {
            if changes.len() >= limits::MAX_CHANGES_PER_MESSAGE {
                return Err(Violation::TooLarge {
                    what: "the sync message's changes".to_owned(),
                    size: changes.len() + 1,
                    limit: limits::MAX_CHANGES_PER_MESSAGE,
                });
            }
            change_shape(part)?;
            let change = Change::from_bytes(part.to_vec()).map_err(|e| Violation::Malformed {
                reason: format!("a change does not decode: {e}"),
            })?;
            changes.push(change);
        }
    }
    Ok(changes)
}

/// `changes` in an order where each comes after those of them it depends on.
fn in_dependency_order(changes: Vec<Change>) -> Vec<Change> {
    let index: HashMap<ChangeHash, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.hash(), i))
        .collect();
    let mut placed = vec![false; changes.len()];
    let mut order = Vec::with_capacity(changes.len());
    // Depth-first from each change: its dependencies among `changes` first.
    for start in 0..changes.len() {
        let mut stack = vec![(start, false)];
        while let Some((i, expanded)) = stack.pop() {
            if placed[i] {
                continue;
            }
            if expanded {
                placed[i] = true;
                order.push(i);
                continue;
            }
            stack.push((i, true));
            for dep in changes[i].deps() {
                if let Some(&d) = index.get(dep)
                    && !placed[d]
                {
                    stack.push((d, false));
                }
            }
        }
    }
    let mut slots: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Asks the peer, in `reply`, for the changes the early ones wait for.
fn ask_for_gaps(doc: &mut AutoCommit, early: &[Change], reply: &mut Option<sync::Message>) {
    let (Some(reply), false) = (reply.as_mut(), early.is_empty()) else {
        return;
    };
    let waiting: HashSet<ChangeHash> = early.iter().map(Change::hash).collect();
    for change in early {
        for dep in change.deps() {
            if !waiting.contains(dep) && !reply.need.contains(dep) && !holds(doc, dep) {
                reply.need.push(*dep);
            }
        }
    }
    // The encoding requires sorted hashes.
    reply.need.sort_unstable();
}

/// Deactivation may come from another process while the socket is open.
fn ensure_active(principal: &Principal, workspace: &Workspace) -> Result<(), HubError> {
    match principal.agent() {
        Some(agent) if !workspace.is_active(agent) => Err(HubError::Deactivated),
        _ => Ok(()),
    }
}

/// How the actors table names a principal.
pub fn principal_key(principal: &Principal) -> String {
    match principal.agent() {
        Some(agent) => agent.to_string(),
        None => SERVER_PRINCIPAL.to_owned(),
    }
}

/// What the validation step leaves for the commit.
struct Validated {
    /// Bindings of the accepted changes' new actors.
    bindings: Vec<Write>,
    refused: Option<Violation>,
    /// Changes still waiting for a change they depend on.
    early: Vec<Change>,
}

impl Hub {
    /// Whether a document exists (and so is in every agent's scope).
    pub async fn has_document(&self, id: &DocumentId) -> Result<bool, HubError> {
        Ok(self.store.document_seq(id).await?.is_some())
    }

    /// Receives one sync message from a peer.
    pub async fn receive_sync(
        &self,
        id: DocumentId,
        sender: &Sender,
        peer: &mut PeerDoc,
        mut message: sync::Message,
    ) -> Result<Received, HubError> {
        let chunks = std::mem::replace(&mut message.changes, ChunkList::empty());
        if chunks.is_empty()
            && let Some(received) = self.acknowledge(id, sender, peer, &message).await?
        {
            return Ok(received);
        }
        let mut received = Received::default();
        let incoming = match admit(&chunks) {
            Ok(incoming) => incoming,
            Err(violation) => {
                peer.reset();
                received.refused = Some(violation);
                return Ok(received);
            }
        };
        let workspace = self.workspace().await?;
        ensure_active(&sender.principal, &workspace)?;
        let mut held = self.lock(id).await?;
        // Most messages are acknowledgements without changes: reading the
        // conversation is for changes.
        let kind = held.kind;
        let before = match kind {
            DocumentKind::Conversation if !incoming.is_empty() || held.has_unsaved() => {
                Some(conversation::read(&held.doc)?)
            }
            _ => None,
        };
        // The rest of the message (heads, have, need) first, as if its changes
        // had not come yet: they are applied below one by one, once valid.
        // (Receiving it after them would make the peer's heads look like news
        // we already had, and we would never acknowledge its changes.)
        let heard = catch_unwind(AssertUnwindSafe(|| {
            held.doc
                .sync()
                .receive_sync_message(&mut peer.state, message)
        }));
        match heard {
            Ok(result) => result.map_err(OpError::from)?,
            Err(_) => return Ok(self.refuse_after_panic(held, peer, id)),
        }
        let mut waiting = std::mem::take(&mut peer.early);
        waiting.extend(incoming);
        let validated = match self
            .validate_incoming(&mut held, waiting, sender, &workspace)
            .await
        {
            Ok(validated) => validated,
            Err(ValidateError::Panicked) => return Ok(self.refuse_after_panic(held, peer, id)),
            Err(ValidateError::Hub(err)) => return Err(err),
        };
        received.refused = validated.refused;
        if held.pending_write().is_some() {
            let committed = self
                .commit_received(&mut held, before.as_ref(), &workspace, validated.bindings)
                .await;
            match committed {
                Ok(notifications) => received.notifications = notifications,
                Err(err) => {
                    // Nothing of the failed commit stays: not in memory, not
                    // in the peer's sync state. The peer sends it again.
                    held.discard();
                    peer.reset();
                    return Err(err);
                }
            }
            if held.kind == DocumentKind::Conversation {
                let told = std::mem::take(&mut received.notifications);
                received.notifications = self.correct_received(&mut held, &workspace, told).await?;
            }
            received.changed = true;
        }
        // An agent reopening a conversation fires workflows; they run as the
        // server's own change once this one is committed and unlocked.
        let reopened = match (&before, received.changed) {
            (Some(before), true) => reopened_events(before, &conversation::read(&held.doc)?),
            _ => Vec::new(),
        };
        if received.refused.is_some() {
            // The peer reloads the document; what it claimed to have is moot.
            peer.reset();
        } else {
            received.reply = held.generate_sync(&mut peer.state);
            ask_for_gaps(&mut held.doc, &validated.early, &mut received.reply);
            peer.early = validated.early;
        }
        drop(held);
        if !reopened.is_empty()
            && let Err(err) = self
                .run_workflows(id, &reopened, baton_shared::clock::now())
                .await
        {
            tracing::warn!(document = %id, error = %err, "workflows on reopen failed");
        }
        Ok(received)
    }

    /// An acknowledgement (every holder sends one after each change): the
    /// copy held answers it without a store round trip, and the memo
    /// answers every holder in the same state but the first. `None` when
    /// it must go the long way (the copy has unsaved changes).
    async fn acknowledge(
        &self,
        id: DocumentId,
        sender: &Sender,
        peer: &mut PeerDoc,
        message: &sync::Message,
    ) -> Result<Option<Received>, HubError> {
        ensure_active(&sender.principal, &*self.workspace_held().await?)?;
        let mut held = self.lock_held(id).await?;
        if held.has_unsaved() {
            return Ok(None);
        }
        let answered = catch_unwind(AssertUnwindSafe(|| {
            held.acknowledge_sync(&mut peer.state, message.clone())
        }));
        let mut reply = match answered {
            Ok(reply) => reply.map_err(OpError::from)?,
            Err(_) => return Ok(Some(self.refuse_after_panic(held, peer, id))),
        };
        ask_for_gaps(&mut held.doc, &peer.early, &mut reply);
        Ok(Some(Received {
            reply,
            ..Received::default()
        }))
    }

    /// Automerge panicked on something the peer sent: the held copy may be
    /// half-written, so it is dropped (it reloads from the store) and the
    /// peer's message is refused.
    fn refuse_after_panic(&self, held: Locked, peer: &mut PeerDoc, id: DocumentId) -> Received {
        tracing::warn!(document = %id, "a peer's message made automerge panic; copy reloaded");
        held.discard();
        peer.reset();
        Received {
            refused: Some(Violation::Malformed {
                reason: "the change could not be applied".to_owned(),
            }),
            ..Received::default()
        }
    }

    /// Judges each change in dependency order against the held copy and
    /// applies those that pass; the first refusal ends it.
    async fn validate_incoming(
        &self,
        held: &mut Locked,
        changes: Vec<Change>,
        sender: &Sender,
        workspace: &Workspace,
    ) -> Result<Validated, ValidateError> {
        let me = principal_key(&sender.principal);
        let kind = match held.kind {
            DocumentKind::Conversation => validate::DocumentKind::Conversation,
            DocumentKind::Workspace => validate::DocumentKind::Workspace,
        };
        let now = baton_shared::clock::now();
        // Each actor's verdict, and the new ones to bind once accepted.
        let mut owners: HashMap<String, bool> = HashMap::new();
        let mut unbound: HashSet<String> = HashSet::new();
        let mut validated = Validated {
            bindings: Vec::new(),
            refused: None,
            early: Vec::new(),
        };
        for change in in_dependency_order(changes) {
            if holds(&mut held.doc, &change.hash()) {
                continue;
            }
            if change.deps().iter().any(|dep| !holds(&mut held.doc, dep)) {
                validated.early.push(change);
                continue;
            }
            let actor = change.actor_id().to_hex_string();
            let mine = match owners.get(&actor) {
                Some(mine) => *mine,
                None => {
                    let owner = self.actor_owner(&actor).await?;
                    if owner.is_none() {
                        unbound.insert(actor.clone());
                    }
                    let mine = owner.as_deref().is_none_or(|owner| owner == me);
                    owners.insert(actor.clone(), mine);
                    mine
                }
            };
            if !mine {
                validated.refused = Some(Violation::ForgedBy {
                    by: format!("actor {actor}, which belongs to someone else"),
                    principal: sender.principal.to_string(),
                });
                break;
            }
            let ctx = Context {
                principal: &sender.principal,
                workspace,
                now,
                online: &sender.online,
                stored: held.totals(),
            };
            let judged = catch_unwind(AssertUnwindSafe(|| {
                validate_change(&mut held.doc, &change, kind, &ctx)
            }))
            .map_err(|_| ValidateError::Panicked)?;
            match judged {
                Ok(after) => {
                    held.accept(after, &change);
                    if unbound.remove(&actor) {
                        validated.bindings.push(Write::BindActor {
                            actor,
                            principal: me.clone(),
                        });
                    }
                }
                Err(violation) => {
                    validated.refused = Some(violation);
                    break;
                }
            }
        }
        Ok(validated)
    }

    /// Commits the accepted changes with their actors' bindings; for a
    /// conversation, with the projection, replies and notifications too.
    async fn commit_received(
        &self,
        held: &mut Locked,
        before: Option<&Conversation>,
        workspace: &Workspace,
        bindings: Vec<Write>,
    ) -> Result<Vec<NotificationRow>, HubError> {
        match held.kind {
            DocumentKind::Conversation => Ok(self
                .commit_conversation(held, before, workspace, bindings)
                .await?
                .notifications),
            DocumentKind::Workspace => {
                let mut writes = bindings;
                writes.extend(held.pending_write());
                let receipt = self.store.commit(writes).await?;
                held.committed(&receipt);
                Ok(Vec::new())
            }
        }
    }

    /// Settles what concurrency made wrong, as the server's own change, and
    /// tells whoever's decision lost (unless `told` already says the
    /// conversation moved away from them). Returns every notification.
    async fn correct_received(
        &self,
        held: &mut Locked,
        workspace: &Workspace,
        mut told: Vec<NotificationRow>,
    ) -> Result<Vec<NotificationRow>, HubError> {
        let now = baton_shared::clock::now();
        let before = conversation::read(&held.doc)?;
        let corrections = correct(&mut held.doc, workspace, now)?;
        if corrections.is_empty() {
            return Ok(told);
        }
        let after = conversation::read(&held.doc)?;
        let id = held.id;
        let moved: Vec<_> = told
            .iter()
            .filter(|n| n.kind == NoticeKind::MovedAway)
            .map(|n| n.agent.clone())
            .collect();
        let notices: Vec<_> = corrections
            .iter()
            .filter_map(|c| match c {
                Correction::Settled(conflict) => Some(conflict),
                Correction::Unassigned { .. } => None,
            })
            .flat_map(|conflict| notify::lost(conflict, &moved, workspace))
            .collect();
        let lost = crate::notify::rows(notices, &after, id);
        let extra = lost.iter().cloned().map(Write::Notification).collect();
        let fixed = self
            .commit_conversation(held, Some(&before), workspace, extra)
            .await;
        match fixed {
            Ok(fixed) => {
                told.extend(fixed.notifications);
                told.extend(lost);
                Ok(told)
            }
            Err(err) => {
                // The peer's changes are durable; only the correction is
                // lost, and the next change to the document makes it again.
                tracing::warn!(document = %id, error = %err, "correction failed");
                Ok(told)
            }
        }
    }

    /// The next sync message for a peer with `state`, if it needs one.
    pub async fn generate_sync(
        &self,
        id: DocumentId,
        state: &mut sync::State,
    ) -> Result<Option<sync::Message>, HubError> {
        let mut held = self.lock_held(id).await?;
        Ok(held.generate_sync(state))
    }
}

/// Why validation stopped short of a verdict.
enum ValidateError {
    /// Automerge panicked on the peer's change.
    Panicked,
    Hub(HubError),
}

impl From<crate::store::StoreError> for ValidateError {
    fn from(err: crate::store::StoreError) -> Self {
        ValidateError::Hub(err.into())
    }
}

/// The reopenings between two states of a conversation (workflows fire on them).
fn reopened_events(before: &Conversation, after: &Conversation) -> Vec<TriggerEvent> {
    events_between(Some(before), after)
        .into_iter()
        .filter(|e| e.kind == EventKind::ConversationReopened)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_shared::automerge::ROOT;
    use baton_shared::automerge::transaction::Transactable;

    #[test]
    fn changes_come_after_those_they_depend_on_whatever_order_they_arrive_in() {
        let mut doc = AutoCommit::new();
        let mut changes = Vec::new();
        for i in 0..6 {
            doc.put(ROOT, "n", i).unwrap();
            doc.commit();
            changes.push(doc.get_last_local_change().unwrap());
        }
        let expected: Vec<ChangeHash> = changes.iter().map(Change::hash).collect();
        changes.reverse();
        changes.swap(1, 4);
        let ordered: Vec<ChangeHash> = in_dependency_order(changes)
            .iter()
            .map(Change::hash)
            .collect();
        assert_eq!(ordered, expected);
    }
}
