//! Changes arriving over live sync, in named steps:
//! 1. [`admit`]: the message's changes are read for their shape (bounded
//!    work, whatever they claim) and parsed, before anything is applied;
//! 2. [`Hub::validate_incoming`]: in dependency order, each change is bound
//!    to its principal and judged on its own against the held copy; what
//!    passes is applied, the first refusal ends the message;
//! 3. [`Hub::commit_received`]: accepted changes are made durable with
//!    their actors' bindings, projection, replies and notifications;
//! 4. `correct_received`: the server settles what concurrency made wrong
//!    and tells whoever lost;
//! 5. workflows fire for a conversation an agent reopened.
//!
//! A refused change leaves nothing behind, and a failed commit takes nothing
//! with it: the held copy is dropped and reloads from the store.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::Change;
use automerge::sync::{self, ChunkList, SyncDoc};
use axum::body::Bytes;
use baton_shared::conversation;
use baton_shared::ids::DocumentId;
use baton_shared::model::Conversation;
use baton_shared::operations::OpError;
use baton_shared::validate::{self, Context, Principal, Violation, validate_change};
use baton_shared::workflow::{EventKind, TriggerEvent, events_between};
use baton_shared::workspace::Workspace;

mod admit;
mod correct;
mod state;
#[cfg(test)]
mod tests;

pub use admit::admit;
pub use state::{PeerDoc, Received, Sender};

use super::{Hub, HubError, SERVER_PRINCIPAL};
use crate::resident::Locked;
use crate::store::{DocumentKind, NotificationRow, StoreError, Write};
use admit::{ask_for_gaps, holds, in_dependency_order};

/// Takes in the rest of a message (heads, have, need) first, as if its
/// changes had not come yet: they are applied one by one, once valid.
/// (Receiving it after them would make the peer's heads look like news we
/// already had, and we would never acknowledge its changes.) `Err(())`
/// when automerge panicked on it.
fn hear(
    held: &mut Locked,
    peer: &mut PeerDoc,
    message: sync::Message,
) -> Result<Result<(), ()>, HubError> {
    let heard = catch_unwind(AssertUnwindSafe(|| {
        held.doc
            .sync()
            .receive_sync_message(&mut peer.state, message)
    }));
    match heard {
        Ok(result) => {
            result.map_err(OpError::from)?;
            Ok(Ok(()))
        }
        Err(_) => Ok(Err(())),
    }
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

    /// Receives one sync message from a peer: admit, validate, commit,
    /// correct and notify, answer, fire workflows.
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
        let incoming = match admit(&chunks) {
            Ok(incoming) => incoming,
            Err(violation) => {
                peer.reset();
                return Ok(Received::refusal(violation));
            }
        };
        let mut waiting = std::mem::take(&mut peer.early);
        waiting.extend(incoming);
        let mut message = Some(message);
        let mut tries = 0;
        // Another node may commit to the document between our read and our
        // write: the peer's changes are then judged again, unchanged, on the
        // fresh copy (a rebase), and what they imply decided again.
        let (received, reopened) = loop {
            let workspace = self.workspace().await?;
            ensure_active(&sender.principal, &workspace)?;
            let mut held = self.lock(id).await?;
            let kind = held.kind;
            let before = match kind {
                // Reading the conversation is for changes, not acknowledgements.
                DocumentKind::Conversation if !waiting.is_empty() || held.has_unsaved() => {
                    Some(conversation::read(&held.doc)?)
                }
                _ => None,
            };
            if let Some(message) = message.take()
                && hear(&mut held, peer, message)?.is_err()
            {
                return Ok(self.refuse_after_panic(held, peer, id));
            }
            let validated = match self
                .validate_incoming(&mut held, waiting.clone(), sender, &workspace)
                .await
            {
                Ok(validated) => validated,
                Err(ValidateError::Panicked) => return Ok(self.refuse_after_panic(held, peer, id)),
                Err(ValidateError::Hub(err)) => return Err(err),
            };
            let done = self
                .commit_step(&mut held, peer, before.as_ref(), &workspace, validated)
                .await;
            drop(held);
            match done {
                Err(HubError::Store(StoreError::Stale(what))) => {
                    if !self.wait_to_redo(&what, &mut tries).await {
                        peer.reset();
                        return Err(HubError::Contended);
                    }
                }
                other => break other?,
            }
        };
        let mut received = received;
        if received.settle_again {
            let lost = self.settle(id, &received.notifications).await?;
            received.notifications.extend(lost);
        }
        if !reopened.is_empty()
            && let Err(err) = self
                .run_workflows(id, &reopened, baton_shared::clock::now())
                .await
        {
            tracing::warn!(document = %id, error = %err, "workflows on reopen failed");
        }
        Ok(received)
    }

    /// Commits what was accepted (dropping it all if the commit fails),
    /// corrects and notifies, and answers the peer; returns the answer and
    /// the reopenings that fire workflows once the document is unlocked.
    async fn commit_step(
        &self,
        held: &mut Locked,
        peer: &mut PeerDoc,
        before: Option<&Conversation>,
        workspace: &Workspace,
        validated: Validated,
    ) -> Result<(Received, Vec<TriggerEvent>), HubError> {
        let mut received = Received {
            refused: validated.refused,
            ..Received::default()
        };
        if held.pending_write().is_some() {
            let committed = self
                .commit_received(held, before, workspace, validated.bindings)
                .await;
            let told = match committed {
                Ok(notifications) => notifications,
                Err(err @ HubError::Store(StoreError::Stale(_))) => {
                    // Another node got there first: the copy reloads and the
                    // same changes are judged again on it.
                    held.discard();
                    return Err(err);
                }
                Err(err) => {
                    // Nothing of the failed commit stays: not in memory, not
                    // in the peer's sync state. The peer sends it again.
                    held.discard();
                    peer.reset();
                    return Err(err);
                }
            };
            received.notifications = match held.kind {
                DocumentKind::Conversation => {
                    let (all, settled) = self.correct_received(held, workspace, told).await?;
                    received.settle_again = !settled;
                    all
                }
                DocumentKind::Workspace => told,
            };
            received.changed = true;
        }
        let reopened = match (before, received.changed) {
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
        Ok((received, reopened))
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
    fn refuse_after_panic(&self, mut held: Locked, peer: &mut PeerDoc, id: DocumentId) -> Received {
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
        let mut actors = Actors::default();
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
            if !actors.mine(self, &actor, &me).await? {
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
                    if actors.unbound.remove(&actor) {
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

    /// The next sync message for a peer with `state`, if it needs one, as
    /// the tail of a `sync` frame: encoded once for every peer in the same
    /// state.
    pub async fn generate_sync_tail(
        &self,
        id: DocumentId,
        state: &mut sync::State,
    ) -> Result<Option<Bytes>, HubError> {
        let mut held = self.lock_held(id).await?;
        Ok(held.generate_sync_tail(state))
    }
}

/// The actors of one message: whose each is, and which are new (bound
/// once a change of theirs is accepted).
#[derive(Default)]
struct Actors {
    owned: HashMap<String, bool>,
    unbound: HashSet<String>,
}

impl Actors {
    /// Whether `actor` may write as `me` (bound to them, or to nobody yet).
    async fn mine(&mut self, hub: &Hub, actor: &str, me: &str) -> Result<bool, ValidateError> {
        if let Some(mine) = self.owned.get(actor) {
            return Ok(*mine);
        }
        let owner = hub.actor_owner(actor).await?;
        if owner.is_none() {
            self.unbound.insert(actor.to_owned());
        }
        let mine = owner.as_deref().is_none_or(|owner| owner == me);
        self.owned.insert(actor.to_owned(), mine);
        Ok(mine)
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
