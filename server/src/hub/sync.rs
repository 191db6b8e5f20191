//! Changes arriving over live sync: each new change is bound to its
//! principal, validated on its own, committed durably, and only then
//! answered and fanned out. A refused change leaves nothing behind.

use std::collections::{HashMap, HashSet};

use baton_shared::automerge::sync::{self, ChunkList, SyncDoc};
use baton_shared::automerge::{AutoCommit, Change, ChangeHash};
use baton_shared::conversation;
use baton_shared::ids::DocumentId;
use baton_shared::operations::{Correction, OpError, correct};
use baton_shared::validate::{self, Context, Principal, Violation, validate_change};
use baton_shared::workflow::{EventKind, TriggerEvent, events_between};
use baton_shared::workspace::Workspace;

use super::{Hub, HubError, SERVER_PRINCIPAL};
use crate::projection;
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
}

/// Whether `doc` holds the change `hash` (by its graph; `get_change_by_hash`
/// would rebuild the whole change).
fn holds(doc: &mut AutoCommit, hash: &ChangeHash) -> bool {
    doc.get_missing_deps(std::slice::from_ref(hash)).is_empty()
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

impl Hub {
    /// Whether a document exists (and so is in every agent's scope).
    pub async fn has_document(&self, id: &DocumentId) -> Result<bool, HubError> {
        Ok(self.store.document_seq(id).await?.is_some())
    }

    /// Receives one sync message from a peer acting as `principal`.
    pub async fn receive_sync(
        &self,
        id: DocumentId,
        principal: &Principal,
        peer: &mut PeerDoc,
        mut message: sync::Message,
    ) -> Result<Received, HubError> {
        let state = &mut peer.state;
        let chunks = std::mem::replace(&mut message.changes, ChunkList::empty());
        let mut received = Received::default();
        if chunks.is_empty() {
            // An acknowledgement: every holder sends one after each change.
            // The copies held answer it (no store round trip), and the memo
            // answers all holders in the same state but the first.
            ensure_active(principal, &*self.workspace_held().await?)?;
            let mut held = self.lock_held(id).await?;
            if !held.has_unsaved() {
                received.reply = held
                    .acknowledge_sync(state, message)
                    .map_err(OpError::from)?;
                ask_for_gaps(&mut held.doc, &peer.early, &mut received.reply);
                return Ok(received);
            }
        }
        let workspace_now = self.workspace().await?;
        ensure_active(principal, &workspace_now)?;
        let mut held = self.lock(id).await?;
        let kind = held.kind;
        let mut bindings = Vec::new();
        // Most messages are acknowledgements without changes (one from every
        // holder after each change): reading the conversation is for changes.
        let before = match kind {
            DocumentKind::Conversation if !chunks.is_empty() || held.has_unsaved() => {
                Some(conversation::read(&held.doc)?)
            }
            _ => None,
        };
        // The rest of the message (heads, have, need) first, as if its changes
        // had not come yet: they are applied below one by one, once valid.
        // (Receiving it after them would make the peer's heads look like news
        // we already had, and we would never acknowledge its changes.)
        held.doc
            .sync()
            .receive_sync_message(state, message)
            .map_err(OpError::from)?;
        let mut arrived = Vec::new();
        if !chunks.is_empty() {
            let mut scratch = held.doc.fork();
            let loaded = chunks
                .iter()
                .all(|chunk| scratch.load_incremental(chunk).is_ok());
            // Early changes may apply now that their gap came (already
            // parsed: a peer's waiting changes are not decoded again).
            if !peer.early.is_empty() {
                let _ = scratch.apply_changes(peer.early.clone());
            }
            // Only when something waits for a parent are the message's
            // changes decoded again, to keep the early ones.
            if !scratch.get_missing_deps(&[]).is_empty() {
                arrived = chunks
                    .iter()
                    .filter_map(|chunk| Change::from_bytes(chunk.to_vec()).ok())
                    .collect();
            }
            let heads = held.doc.get_heads();
            let incoming = if loaded {
                scratch.get_changes(&heads)
            } else {
                Vec::new()
            };
            if !loaded {
                received.refused = Some(Violation::Malformed {
                    reason: "the sync message's changes do not decode".to_owned(),
                });
            }
            let me = principal_key(principal);
            let mut seen: HashMap<String, bool> = HashMap::new();
            let ctx = Context {
                principal,
                workspace: &workspace_now,
                now: baton_shared::clock::now(),
            };
            let validation_kind = match kind {
                DocumentKind::Conversation => validate::DocumentKind::Conversation,
                DocumentKind::Workspace => validate::DocumentKind::Workspace,
            };
            for change in incoming {
                let actor = change.actor_id().to_hex_string();
                let owned_by_me = match seen.get(&actor) {
                    Some(mine) => *mine,
                    None => {
                        let owner = self.actor_owner(&actor).await?;
                        let mine = owner.as_deref().is_none_or(|owner| owner == me);
                        if owner.is_none()
                            && !bindings.iter().any(
                                |b| matches!(b, Write::BindActor { actor: a, .. } if *a == actor),
                            )
                        {
                            bindings.push(Write::BindActor {
                                actor: actor.clone(),
                                principal: me.clone(),
                            });
                        }
                        seen.insert(actor.clone(), mine);
                        mine
                    }
                };
                if !owned_by_me {
                    received.refused = Some(Violation::ForgedBy {
                        by: format!("actor {actor}, which belongs to someone else"),
                        principal: principal.to_string(),
                    });
                    break;
                }
                match validate_change(&mut held.doc, &change, validation_kind, &ctx) {
                    Ok(after) => held.replace(after),
                    Err(violation) => {
                        received.refused = Some(violation);
                        break;
                    }
                }
            }
        }

        if held.pending_write().is_some() {
            // Accepted changes: commit them (with their actors' bindings), then
            // let the server correct what concurrency made wrong.
            match kind {
                DocumentKind::Conversation => {
                    let committed = self
                        .commit_conversation(&mut held, before.as_ref(), &workspace_now, bindings)
                        .await?;
                    received.notifications = committed.notifications;
                    let now = baton_shared::clock::now();
                    let before = conversation::read(&held.doc)?;
                    let corrections = correct(&mut held.doc, &workspace_now, now)?;
                    if !corrections.is_empty() {
                        // Whoever lost a settled conflict is told, unless this
                        // change already told them the conversation moved.
                        let after = conversation::read(&held.doc)?;
                        let mut lost: Vec<NotificationRow> = Vec::new();
                        for correction in &corrections {
                            let Correction::Settled(conflict) = correction else {
                                continue;
                            };
                            for loser in &conflict.losers {
                                let told = received
                                    .notifications
                                    .iter()
                                    .any(|n| &n.agent == loser && n.reason == "moved_away");
                                if workspace_now.is_active(loser) && !told {
                                    lost.push(projection::lost_conflict(
                                        &after,
                                        id,
                                        loser.clone(),
                                        conflict.winner.agent.as_ref(),
                                        &workspace_now,
                                    ));
                                }
                            }
                        }
                        let extra = lost.iter().cloned().map(Write::Notification).collect();
                        let fixed = self
                            .commit_conversation(&mut held, Some(&before), &workspace_now, extra)
                            .await?;
                        received.notifications.extend(fixed.notifications);
                        received.notifications.extend(lost);
                    }
                }
                DocumentKind::Workspace => {
                    let mut writes = bindings;
                    writes.extend(held.pending_write());
                    let receipt = self.store.commit(writes).await?;
                    held.committed(&receipt);
                }
            }
            received.changed = true;
        }

        // An agent reopening a conversation fires workflows; they run as the
        // server's own change once this one is committed and unlocked.
        let reopened: Vec<TriggerEvent> = match (&before, received.changed) {
            (Some(before), true) => events_between(Some(before), &conversation::read(&held.doc)?)
                .into_iter()
                .filter(|e| e.kind == EventKind::ConversationReopened)
                .collect(),
            _ => Vec::new(),
        };
        if received.refused.is_some() {
            // Forget what the peer claimed to have; it reloads the document.
            *state = sync::State::new();
            peer.early.clear();
        } else {
            received.reply = held.generate_sync(state);
            let mut early = std::mem::take(&mut peer.early);
            early.extend(arrived);
            let mut seen = HashSet::new();
            early.retain(|c| seen.insert(c.hash()) && !holds(&mut held.doc, &c.hash()));
            ask_for_gaps(&mut held.doc, &early, &mut received.reply);
            peer.early = early;
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
