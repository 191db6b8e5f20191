//! Changes the server makes itself (the API, ingest, workflows, the
//! command line, the demo): each one commits with everything it implies —
//! the projection row, the replies to deliver, the notifications — in one
//! durable request, then everyone connected is told.
//!
//! A change is decided on the copy held here. If another node (or the
//! command line) committed to the document first, the store refuses the
//! write as stale; the copy is dropped, reloads, and the change is decided
//! again on what is now true (`redo!`). Merging instead would let a
//! decision made on an old state stand (a workflow taking a conversation
//! an agent just claimed, a notification for a state that never was).

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::time::Duration;

use automerge::{ActorId, AutoCommit, ChangeHash};
use baton_shared::conversation::{self, NewConversation};
use baton_shared::ids::DocumentId;
use baton_shared::model::Conversation;
use baton_shared::operations::OpError;
use baton_shared::workspace::{self, Workspace};

use super::{Committed, Hub, HubError, SERVER_PRINCIPAL};
use crate::resident::{Locked, heads_hex};
use crate::store::{DocumentKind, NotificationRow, Receipt, Write};
use crate::{notify, projection};

/// Attempts at a change whose document others keep moving.
const ATTEMPTS: u32 = 12;

/// Evaluates `$attempt` (one awaited attempt at a change) again while its
/// write was stale — another writer committed to the same document, or
/// moved a round-robin turn, since it read them — waiting 1, 2, 4… ms
/// between attempts; after a few it gives up with [`HubError::Contended`].
/// (A macro, not a function taking an async closure: the attempt borrows
/// its caller's state, and such futures must stay `Send`.)
macro_rules! redo {
    ($hub:expr, $attempt:expr) => {{
        let mut tries = 0u32;
        loop {
            match $attempt {
                Err($crate::hub::HubError::Store($crate::store::StoreError::Stale(what))) => {
                    if !$hub.wait_to_redo(&what, &mut tries).await {
                        break Err($crate::hub::HubError::Contended);
                    }
                }
                other => break other,
            }
        }
    }};
}
pub(crate) use redo;

impl Hub {
    /// Counts a redo and waits before it; false once attempts are spent.
    pub(crate) async fn wait_to_redo(&self, what: &str, tries: &mut u32) -> bool {
        *tries += 1;
        if *tries >= ATTEMPTS {
            tracing::warn!(%what, "gave up redoing a change: its document kept changing");
            return false;
        }
        self.stale_retries.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%what, attempt = *tries, "redoing a change on fresh state");
        // Doubling from 1 ms up to 64 ms, plus up to as much again at
        // random, so writers that collided do not collide again in step.
        let base = 500u64 << (*tries).min(7);
        let jitter = base * u64::from(baton_shared::ids::random_bytes()[0]) / 255;
        tokio::time::sleep(Duration::from_micros(base + jitter)).await;
        true
    }

    /// How many changes were redone because their copy was stale.
    pub fn stale_retries(&self) -> u64 {
        self.stale_retries.load(Ordering::Relaxed)
    }

    /// Changes the workspace document with `change` (one or more shared
    /// operations) and commits it together with `extra` writes; decided
    /// again on the fresh workspace if another writer changed it first.
    pub async fn change_workspace<T>(
        &self,
        extra: Vec<Write>,
        mut change: impl FnMut(&mut AutoCommit, &Workspace) -> Result<T, HubError>,
    ) -> Result<T, HubError> {
        self.change_workspace_with(|doc, current| Ok((change(doc, current)?, extra.clone())))
            .await
    }

    /// Like [`Hub::change_workspace`], where `change` also returns the
    /// writes that must commit with it, decided on the same workspace.
    pub async fn change_workspace_with<T>(
        &self,
        mut change: impl FnMut(&mut AutoCommit, &Workspace) -> Result<(T, Vec<Write>), HubError>,
    ) -> Result<T, HubError> {
        redo!(self, self.change_workspace_once(&mut change).await)
    }

    async fn change_workspace_once<T>(
        &self,
        change: &mut impl FnMut(&mut AutoCommit, &Workspace) -> Result<(T, Vec<Write>), HubError>,
    ) -> Result<T, HubError> {
        let mut held = self.lock(self.workspace).await?;
        let before = workspace::read(&held.doc)?;
        let (value, extra) = match change(&mut held.doc, &before) {
            Ok(value) => value,
            Err(err) => {
                held.discard();
                return Err(err);
            }
        };
        let mut writes: Vec<Write> = held.pending_write().into_iter().collect();
        writes.extend(extra);
        match self.store.commit(writes).await {
            Ok(receipt) => {
                held.committed(&receipt);
                drop(held);
                self.live.changed(self.workspace, None);
                Ok(value)
            }
            Err(err) => {
                held.discard();
                Err(err.into())
            }
        }
    }

    /// Changes a conversation with `change` and commits it with its projection,
    /// replies and notifications, all in one durable request, then tells
    /// everyone connected; decided again on the fresh conversation if
    /// another writer changed it first.
    pub async fn change_conversation<T>(
        &self,
        id: DocumentId,
        mut change: impl FnMut(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
    ) -> Result<(T, Committed), HubError> {
        redo!(
            self,
            self.change_conversation_with(id, |doc, workspace| {
                change(doc, workspace).map(|value| (value, Vec::new()))
            })
            .await
        )
    }

    /// Like [`Hub::change_conversation`], where `change` also returns writes
    /// that must commit with it (workflow runs); they commit even when the
    /// document did not change. One attempt: a stale write fails, and the
    /// caller redoes it with what the writes were decided on read again
    /// (see `redo!`).
    pub async fn change_conversation_with<T>(
        &self,
        id: DocumentId,
        change: impl FnOnce(&mut AutoCommit, &Workspace) -> Result<(T, Vec<Write>), OpError>,
    ) -> Result<(T, Committed), HubError> {
        let workspace = self.workspace().await?;
        let mut held = self.lock(id).await?;
        let before = conversation::read(&held.doc)?;
        let (value, extra) = match change(&mut held.doc, &workspace) {
            Ok(value) => value,
            Err(err) => {
                held.discard();
                return Err(err.into());
            }
        };
        let committed = self
            .commit_conversation(&mut held, Some(&before), &workspace, extra)
            .await;
        match committed {
            Ok(committed) => {
                drop(held);
                self.announce(id, None, &committed.notifications);
                Ok((value, committed))
            }
            Err(err) => {
                held.discard();
                Err(err)
            }
        }
    }

    /// Creates a conversation document, applies `then` (e.g. the first
    /// customer message) and commits it all at once, notifying as usual.
    pub async fn create_conversation<T>(
        &self,
        new: &NewConversation,
        mut then: impl FnMut(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        self.add_conversation_redone(new, &mut then, true).await
    }

    /// Like [`Hub::create_conversation`], where `then` learns the new
    /// document's id and also returns writes that must commit with it. One
    /// attempt, as [`Hub::change_conversation_with`].
    pub async fn create_conversation_with<T>(
        &self,
        new: &NewConversation,
        mut then: impl FnMut(
            &mut AutoCommit,
            &Workspace,
            DocumentId,
        ) -> Result<(T, Vec<Write>), OpError>,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        self.add_conversation(new, &mut then, true).await
    }

    /// Like [`Hub::create_conversation`] for history being imported (the
    /// demo's past): nobody is notified of what happened long ago.
    pub async fn import_conversation<T>(
        &self,
        new: &NewConversation,
        mut then: impl FnMut(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        self.add_conversation_redone(new, &mut then, false).await
    }

    /// [`Hub::add_conversation`] with no extra writes, redone on fresh state.
    async fn add_conversation_redone<T>(
        &self,
        new: &NewConversation,
        then: &mut impl FnMut(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
        notify: bool,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        let mut then =
            |doc: &mut AutoCommit, ws: &Workspace, _| then(doc, ws).map(|v| (v, Vec::new()));
        redo!(self, self.add_conversation(new, &mut then, notify).await)
    }

    async fn add_conversation<T>(
        &self,
        new: &NewConversation,
        then: &mut impl FnMut(
            &mut AutoCommit,
            &Workspace,
            DocumentId,
        ) -> Result<(T, Vec<Write>), OpError>,
        notify: bool,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        let workspace = self.workspace().await?;
        let id = DocumentId::random();
        let mut doc = conversation::create(new).map_err(OpError::from)?;
        doc.set_actor(self.actor.clone());
        let (value, extra) = then(&mut doc, &workspace, id)?;
        let after = conversation::read(&doc)?;
        let mut writes = server_bindings(&mut doc, &[], &self.actor);
        writes.extend(extra);
        writes.push(Write::Document {
            id,
            kind: DocumentKind::Conversation,
            heads: heads_hex(&doc.get_heads()),
            chunk: doc.save(),
            snapshot: None,
            after: None,
        });
        let mut notifications = outcome_writes(&mut writes, None, &after, id, &workspace);
        if !notify {
            writes.retain(|w| !matches!(w, Write::Notification(_)));
            notifications.clear();
        }
        let bytes = writes
            .iter()
            .map(|w| match w {
                Write::Document { chunk, .. } => chunk.len(),
                _ => 0,
            })
            .sum();
        let receipt = self.store.commit(writes).await?;
        let seq = first_seq(&receipt);
        let notifications = notify::counted(notifications, &receipt);
        self.documents
            .insert(id, DocumentKind::Conversation, doc, seq, bytes)
            .await;
        self.announce(id, None, &notifications);
        Ok((
            id,
            value,
            Committed {
                seq,
                conversation: after,
                notifications,
            },
        ))
    }

    pub(super) async fn commit_conversation(
        &self,
        held: &mut Locked,
        before: Option<&Conversation>,
        workspace: &Workspace,
        extra: Vec<Write>,
    ) -> Result<Committed, HubError> {
        let after = conversation::read(&held.doc)?;
        let Some(document) = held.pending_write() else {
            if !extra.is_empty() {
                self.store.commit(extra).await?;
            }
            return Ok(Committed {
                seq: held.seq(),
                conversation: after,
                notifications: Vec::new(),
            });
        };
        let mut writes = extra;
        writes.push(document);
        let notifications = outcome_writes(&mut writes, before, &after, held.id, workspace);
        let receipt = self.store.commit(writes).await?;
        let seq = first_seq(&receipt);
        held.committed(&receipt);
        let notifications = notify::counted(notifications, &receipt);
        Ok(Committed {
            seq,
            conversation: after,
            notifications,
        })
    }
}

/// Adds what a conversation change implies besides the document itself (the
/// projection row, replies to deliver, notifications) and returns the
/// notifications.
pub(super) fn outcome_writes(
    writes: &mut Vec<Write>,
    before: Option<&Conversation>,
    after: &Conversation,
    id: DocumentId,
    workspace: &Workspace,
) -> Vec<NotificationRow> {
    let notices = baton_shared::notify::plan(before, after, workspace);
    let notifications = notify::rows(notices, after, id);
    writes.push(Write::Conversation(projection::conversation_row(after, id)));
    writes.extend(
        projection::new_replies(before, after)
            .into_iter()
            .map(Write::Reply),
    );
    writes.extend(notifications.iter().cloned().map(Write::Notification));
    notifications
}

/// Binds the actors of changes since `since` (other than `actor`, already
/// bound) to the server.
pub(super) fn server_bindings(
    doc: &mut AutoCommit,
    since: &[ChangeHash],
    actor: &ActorId,
) -> Vec<Write> {
    let actors: BTreeSet<String> = doc
        .get_changes(since)
        .iter()
        .map(|c| c.actor_id())
        .filter(|a| *a != actor)
        .map(ActorId::to_hex_string)
        .collect();
    actors
        .into_iter()
        .map(|actor| Write::BindActor {
            actor,
            principal: SERVER_PRINCIPAL.to_owned(),
        })
        .collect()
}

pub(super) fn first_seq(receipt: &Receipt) -> u64 {
    receipt.seqs.first().copied().unwrap_or_default()
}
