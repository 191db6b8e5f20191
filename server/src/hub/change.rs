//! Changes the server makes itself (the API, ingest, workflows, the
//! command line, the demo): each one commits with everything it implies —
//! the projection row, the replies to deliver, the notifications — in one
//! durable request, then everyone connected is told.

use std::collections::BTreeSet;

use baton_shared::automerge::{ActorId, AutoCommit, ChangeHash};
use baton_shared::conversation::{self, NewConversation};
use baton_shared::ids::DocumentId;
use baton_shared::model::Conversation;
use baton_shared::operations::OpError;
use baton_shared::workspace::{self, Workspace};

use super::{Committed, Hub, HubError, SERVER_PRINCIPAL};
use crate::resident::{Locked, heads_hex};
use crate::store::{DocumentKind, NotificationRow, Receipt, Write};
use crate::{notify, projection};

impl Hub {
    /// Changes the workspace document with `change` (one or more shared
    /// operations) and commits it together with `extra` writes.
    pub async fn change_workspace<T>(
        &self,
        extra: Vec<Write>,
        change: impl FnOnce(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
    ) -> Result<T, HubError> {
        let mut held = self.lock(self.workspace).await?;
        let before = workspace::read(&held.doc)?;
        let value = match change(&mut held.doc, &before) {
            Ok(value) => value,
            Err(err) => {
                held.discard();
                return Err(err.into());
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
    /// everyone connected.
    pub async fn change_conversation<T>(
        &self,
        id: DocumentId,
        change: impl FnOnce(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
    ) -> Result<(T, Committed), HubError> {
        self.change_conversation_with(id, |doc, workspace| {
            change(doc, workspace).map(|value| (value, Vec::new()))
        })
        .await
    }

    /// Like [`Hub::change_conversation`], where `change` also returns writes
    /// that must commit with it (workflow runs); they commit even when the
    /// document did not change.
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
        then: impl FnOnce(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        let then = |doc: &mut AutoCommit, ws: &Workspace, _| then(doc, ws).map(|v| (v, Vec::new()));
        self.add_conversation(new, then, true).await
    }

    /// Like [`Hub::create_conversation`], where `then` learns the new
    /// document's id and also returns writes that must commit with it.
    pub async fn create_conversation_with<T>(
        &self,
        new: &NewConversation,
        then: impl FnOnce(&mut AutoCommit, &Workspace, DocumentId) -> Result<(T, Vec<Write>), OpError>,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        self.add_conversation(new, then, true).await
    }

    /// Like [`Hub::create_conversation`] for history being imported (the
    /// demo's past): nobody is notified of what happened long ago.
    pub async fn import_conversation<T>(
        &self,
        new: &NewConversation,
        then: impl FnOnce(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        let then = |doc: &mut AutoCommit, ws: &Workspace, _| then(doc, ws).map(|v| (v, Vec::new()));
        self.add_conversation(new, then, false).await
    }

    async fn add_conversation<T>(
        &self,
        new: &NewConversation,
        then: impl FnOnce(&mut AutoCommit, &Workspace, DocumentId) -> Result<(T, Vec<Write>), OpError>,
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
