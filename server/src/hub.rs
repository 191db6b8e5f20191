//! The server's core: the store, the documents it holds, and the one place
//! where a conversation change is committed together with everything it
//! implies (projection, replies to deliver, notifications). The HTTP API,
//! the command line and the demo all go through here.

use std::sync::Arc;

use baton_shared::ReadError;
use baton_shared::automerge::AutoCommit;
use baton_shared::conversation::{self, NewConversation};
use baton_shared::ids::DocumentId;
use baton_shared::model::Conversation;
use baton_shared::operations::OpError;
use baton_shared::workspace::{self, Workspace};

use crate::documents::{Documents, Locked};
use crate::projection;
use crate::store::{DocumentKind, Receipt, Store, StoreError, Write};

const WORKSPACE_KEY: &str = "workspace_document";

/// Why a change could not be made.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error(transparent)]
    Op(#[from] OpError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored document is unreadable: {0}")]
    Read(#[from] ReadError),
    #[error("no such document: {0}")]
    Missing(DocumentId),
}

/// What a committed conversation change produced.
#[derive(Debug, Clone)]
pub struct Committed {
    pub seq: u64,
    pub conversation: Conversation,
    pub notifications: Vec<crate::store::NotificationRow>,
}

/// Shared by every request, command and background task.
pub struct Hub {
    pub store: Arc<dyn Store>,
    pub documents: Documents,
    workspace: DocumentId,
}

impl Hub {
    /// Opens the hub, creating the workspace document on first start.
    pub async fn open(store: Arc<dyn Store>) -> anyhow::Result<Arc<Hub>> {
        let documents = Documents::new(store.clone());
        let workspace = match store.meta(WORKSPACE_KEY).await? {
            Some(id) => id
                .parse()
                .map_err(|e| anyhow::anyhow!("stored workspace id {id:?}: {e}"))?,
            None => {
                let id = DocumentId::random();
                let mut doc = workspace::create("Baton", baton_shared::clock::now())?;
                let receipt = store
                    .commit(vec![
                        Write::Document {
                            id,
                            kind: DocumentKind::Workspace,
                            chunk: doc.save(),
                            snapshot: None,
                        },
                        Write::Meta {
                            key: WORKSPACE_KEY.to_owned(),
                            value: id.to_string(),
                        },
                    ])
                    .await?;
                documents
                    .insert(id, DocumentKind::Workspace, doc, first_seq(&receipt))
                    .await;
                id
            }
        };
        Ok(Arc::new(Hub {
            store,
            documents,
            workspace,
        }))
    }

    /// The workspace document's id.
    pub fn workspace_id(&self) -> DocumentId {
        self.workspace
    }

    /// The workspace as stored now.
    pub async fn workspace(&self) -> Result<Workspace, HubError> {
        let held = self.lock(self.workspace).await?;
        Ok(workspace::read(&held.doc)?)
    }

    async fn lock(&self, id: DocumentId) -> Result<Locked, HubError> {
        self.documents.lock(id).await?.ok_or(HubError::Missing(id))
    }

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
                held.doc.rollback();
                self.documents.forget(&self.workspace);
                return Err(err.into());
            }
        };
        let mut writes: Vec<Write> = held.pending_write().into_iter().collect();
        writes.extend(extra);
        match self.store.commit(writes).await {
            Ok(receipt) => {
                held.committed(first_seq(&receipt));
                Ok(value)
            }
            Err(err) => {
                drop(held);
                self.documents.forget(&self.workspace);
                Err(err.into())
            }
        }
    }

    /// Changes a conversation with `change` and commits it with its projection,
    /// replies and notifications, all in one durable request.
    pub async fn change_conversation<T>(
        &self,
        id: DocumentId,
        change: impl FnOnce(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
    ) -> Result<(T, Committed), HubError> {
        let workspace = self.workspace().await?;
        let mut held = self.lock(id).await?;
        let before = conversation::read(&held.doc)?;
        let value = match change(&mut held.doc, &workspace) {
            Ok(value) => value,
            Err(err) => {
                drop(held);
                self.documents.forget(&id);
                return Err(err.into());
            }
        };
        let committed = self
            .commit_conversation(&mut held, Some(&before), &workspace)
            .await;
        if committed.is_err() {
            drop(held);
            self.documents.forget(&id);
        }
        Ok((value, committed?))
    }

    /// Creates a conversation document, applies `then` (e.g. the first
    /// customer message) and commits it all at once, notifying as usual.
    pub async fn create_conversation<T>(
        &self,
        new: &NewConversation,
        then: impl FnOnce(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
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
        self.add_conversation(new, then, false).await
    }

    async fn add_conversation<T>(
        &self,
        new: &NewConversation,
        then: impl FnOnce(&mut AutoCommit, &Workspace) -> Result<T, OpError>,
        notify: bool,
    ) -> Result<(DocumentId, T, Committed), HubError> {
        let workspace = self.workspace().await?;
        let id = DocumentId::random();
        let mut doc = conversation::create(new).map_err(OpError::from)?;
        let value = then(&mut doc, &workspace)?;
        let after = conversation::read(&doc)?;
        let mut writes = vec![
            Write::Document {
                id,
                kind: DocumentKind::Conversation,
                chunk: doc.save(),
                snapshot: None,
            },
            Write::Conversation(projection::conversation_row(&after, id)),
        ];
        let notifications = if notify {
            projection::notifications(None, &after, id, &workspace)
        } else {
            Vec::new()
        };
        writes.extend(
            projection::new_replies(None, &after)
                .into_iter()
                .map(Write::Reply),
        );
        writes.extend(notifications.iter().cloned().map(Write::Notification));
        let receipt = self.store.commit(writes).await?;
        let seq = first_seq(&receipt);
        self.documents
            .insert(id, DocumentKind::Conversation, doc, seq)
            .await;
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

    async fn commit_conversation(
        &self,
        held: &mut Locked,
        before: Option<&Conversation>,
        workspace: &Workspace,
    ) -> Result<Committed, HubError> {
        let after = conversation::read(&held.doc)?;
        let Some(document) = held.pending_write() else {
            return Ok(Committed {
                seq: held.seq(),
                conversation: after,
                notifications: Vec::new(),
            });
        };
        let id = held.id;
        let notifications = projection::notifications(before, &after, id, workspace);
        let mut writes = vec![
            document,
            Write::Conversation(projection::conversation_row(&after, id)),
        ];
        writes.extend(
            projection::new_replies(before, &after)
                .into_iter()
                .map(Write::Reply),
        );
        writes.extend(notifications.iter().cloned().map(Write::Notification));
        let receipt = self.store.commit(writes).await?;
        let seq = first_seq(&receipt);
        held.committed(seq);
        Ok(Committed {
            seq,
            conversation: after,
            notifications,
        })
    }
}

fn first_seq(receipt: &Receipt) -> u64 {
    receipt.seqs.first().copied().unwrap_or_default()
}
