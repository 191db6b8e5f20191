//! The server's core: the store, the documents it holds, who is connected,
//! and the one place where a change is committed together with everything it
//! implies (projection, replies to deliver, notifications, fan-out). The HTTP
//! API, live sync, the command line and the demo all go through here.

mod online;
mod receive;

pub use online::ONLINE_RETENTION_MS;
pub use receive::{PeerDoc, Received, Sender, admit, principal_key};

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use baton_shared::ReadError;
use baton_shared::automerge::{ActorId, AutoCommit, ChangeHash};
use baton_shared::conversation::{self, NewConversation};
use baton_shared::ids::DocumentId;
use baton_shared::model::Conversation;
use baton_shared::operations::OpError;
use baton_shared::workspace::{self, Workspace};

use crate::resident::{Documents, Locked, heads_hex};
use crate::fanout::Live;
use crate::projection;
use crate::store::{DocumentKind, NotificationRow, Receipt, Store, StoreError, Write};

const WORKSPACE_KEY: &str = "workspace_document";
/// How the actors table names the server.
pub const SERVER_PRINCIPAL: &str = "server";

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
    #[error("the account has been deactivated")]
    Deactivated,
}

/// What a committed conversation change produced.
#[derive(Debug, Clone)]
pub struct Committed {
    pub seq: u64,
    pub conversation: Conversation,
    pub notifications: Vec<NotificationRow>,
}

/// Shared by every request, connection, command and background task.
pub struct Hub {
    pub store: Arc<dyn Store>,
    pub documents: Documents,
    pub live: Live,
    workspace: DocumentId,
    actor: ActorId,
    /// Held while workflows run, so this node's round-robin turns and open
    /// counts are read and moved one run at a time.
    pub(crate) workflow_runs: tokio::sync::Mutex<()>,
    /// The workspace as last read, with the heads it was read at: every
    /// incoming change is judged against it, and reading a workspace of
    /// hundreds of agents from its document costs milliseconds.
    workspace_read: std::sync::Mutex<Option<(Vec<ChangeHash>, Arc<Workspace>)>>,
    /// Actor → principal bindings already read from the store. A binding
    /// never changes once stored, so a known one is never asked again; an
    /// unknown actor always is (it may have been bound since).
    actor_owners: std::sync::Mutex<HashMap<String, String>>,
}

/// Documents the store watcher reads per query.
const WATCH_PAGE: u32 = 5_000;

/// How many actor bindings [`Hub::actor_owner`] remembers before starting over.
const REMEMBERED_ACTORS: usize = 10_000;

impl Hub {
    /// Opens the hub, creating the workspace document on first start.
    pub async fn open(store: Arc<dyn Store>) -> anyhow::Result<Arc<Hub>> {
        let actor = ActorId::random();
        store
            .commit(vec![Write::BindActor {
                actor: actor.to_hex_string(),
                principal: SERVER_PRINCIPAL.to_owned(),
            }])
            .await?;
        let documents = Documents::new(store.clone(), actor.clone());
        let workspace = match store.meta(WORKSPACE_KEY).await? {
            Some(id) => id
                .parse()
                .map_err(|e| anyhow::anyhow!("stored workspace id {id:?}: {e}"))?,
            None => {
                let id = DocumentId::random();
                let mut doc = workspace::create("Baton", baton_shared::clock::now())?;
                let mut writes = server_bindings(&mut doc, &[], &actor);
                writes.push(Write::Document {
                    id,
                    kind: DocumentKind::Workspace,
                    heads: heads_hex(&doc.get_heads()),
                    chunk: doc.save(),
                    snapshot: None,
                    after: None,
                });
                writes.push(Write::Meta {
                    key: WORKSPACE_KEY.to_owned(),
                    value: id.to_string(),
                });
                let bytes = doc.save().len();
                let receipt = store.commit(writes).await?;
                documents
                    .insert(id, DocumentKind::Workspace, doc, first_seq(&receipt), bytes)
                    .await;
                id
            }
        };
        let hub = Arc::new(Hub {
            store,
            documents,
            live: Live::default(),
            workspace,
            actor,
            workflow_runs: tokio::sync::Mutex::new(()),
            workspace_read: std::sync::Mutex::new(None),
            actor_owners: std::sync::Mutex::new(HashMap::new()),
        });
        // Workspaces made before workflows existed get their (empty) map now.
        hub.change_workspace(Vec::new(), |doc, _| {
            workspace::ensure_workflows(doc, baton_shared::clock::now())
        })
        .await?;
        Ok(hub)
    }

    /// The workspace document's id.
    pub fn workspace_id(&self) -> DocumentId {
        self.workspace
    }

    /// The workspace as stored now.
    /// The principal an Automerge actor is bound to, if it is bound.
    pub(crate) async fn actor_owner(&self, actor: &str) -> Result<Option<String>, StoreError> {
        if let Some(owner) = self.owners().get(actor) {
            return Ok(Some(owner.clone()));
        }
        let owner = self.store.actor_principal(actor).await?;
        if let Some(owner) = &owner {
            let mut owners = self.owners();
            if owners.len() >= REMEMBERED_ACTORS {
                owners.clear();
            }
            owners.insert(actor.to_owned(), owner.clone());
        }
        Ok(owner)
    }

    fn owners(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.actor_owners.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub async fn workspace(&self) -> Result<Arc<Workspace>, HubError> {
        let held = self.lock(self.workspace).await?;
        self.read_workspace(held)
    }

    /// The workspace as held, which may trail a change made by another
    /// process by up to a second (see [`Hub::watch_store`]).
    pub async fn workspace_held(&self) -> Result<Arc<Workspace>, HubError> {
        let held = self.lock_held(self.workspace).await?;
        self.read_workspace(held)
    }

    fn read_workspace(&self, mut held: Locked) -> Result<Arc<Workspace>, HubError> {
        let heads = held.doc.get_heads();
        let mut cached = self
            .workspace_read
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some((at, workspace)) = cached.as_ref()
            && *at == heads
        {
            return Ok(workspace.clone());
        }
        let workspace = Arc::new(workspace::read(&held.doc)?);
        *cached = Some((heads, workspace.clone()));
        Ok(workspace)
    }

    async fn lock(&self, id: DocumentId) -> Result<Locked, HubError> {
        self.documents.lock(id).await?.ok_or(HubError::Missing(id))
    }

    async fn lock_held(&self, id: DocumentId) -> Result<Locked, HubError> {
        self.documents
            .lock_held(id)
            .await?
            .ok_or(HubError::Missing(id))
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

    async fn commit_conversation(
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
        Ok(Committed {
            seq,
            conversation: after,
            notifications,
        })
    }

    /// Watches the store for commits made elsewhere (the command line, another
    /// server node), brings held copies up to date and tells connected peers,
    /// once a second. Lossy hints are fine: the sync protocol recovers
    /// anything missed.
    pub fn watch_store(self: &Arc<Self>, shutdown: tokio_util::sync::CancellationToken) {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut seen = hub.store.latest_seq().await.unwrap_or_default();
            let mut ticks = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                let Ok(latest) = hub.store.latest_seq().await else {
                    continue;
                };
                if latest <= seen {
                    continue;
                }
                // Held copies catch up even with nobody connected: sync
                // answers from them without asking the store.
                while let Ok(changed) = hub.store.documents_since(seen, WATCH_PAGE).await {
                    let last = changed.last().map(|(_, seq, _)| *seq);
                    let full = changed.len() >= WATCH_PAGE as usize;
                    for (id, seq, _) in changed {
                        // This process's own commits were announced as made.
                        let tell = match hub.documents.caught_up(id, seq).await {
                            Ok(tell) => tell,
                            Err(err) => {
                                // Dropped, the copy reloads whole when next used.
                                tracing::warn!(document = %id, error = %err, "catching up failed");
                                hub.documents.forget(&id);
                                true
                            }
                        };
                        if tell && hub.live.count() > 0 {
                            hub.live.changed(id, None);
                        }
                    }
                    match last {
                        Some(last) if full => seen = last,
                        _ => {
                            seen = seen.max(latest);
                            break;
                        }
                    }
                }
            }
        });
    }

    /// Marks `agent`'s notifications `ids` read, and tells their other
    /// connections (all but `except`). The one way to mark them, from the
    /// API or a socket.
    pub async fn mark_read(
        &self,
        agent: &baton_shared::ids::AgentId,
        ids: Vec<String>,
        except: Option<u64>,
    ) -> Result<(), HubError> {
        self.store
            .commit(vec![Write::MarkNotificationsRead {
                agent: agent.clone(),
                ids: ids.clone(),
            }])
            .await?;
        self.live.read(agent, &ids, except.unwrap_or(0));
        Ok(())
    }

    /// Tells connected peers that `id` changed (all but `except`) and pushes
    /// the notifications to their agents.
    pub fn announce(&self, id: DocumentId, except: Option<u64>, notifications: &[NotificationRow]) {
        self.live.changed(id, except);
        self.live.notify(notifications);
    }
}

/// Adds what a conversation change implies besides the document itself (the
/// projection row, replies to deliver, notifications) and returns the
/// notifications.
fn outcome_writes(
    writes: &mut Vec<Write>,
    before: Option<&Conversation>,
    after: &Conversation,
    id: DocumentId,
    workspace: &Workspace,
) -> Vec<NotificationRow> {
    let notifications = projection::notifications(before, after, id, workspace);
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
fn server_bindings(doc: &mut AutoCommit, since: &[ChangeHash], actor: &ActorId) -> Vec<Write> {
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

fn first_seq(receipt: &Receipt) -> u64 {
    receipt.seqs.first().copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly by design

    use super::*;
    use crate::store::SqliteStore;
    use baton_shared::automerge::transaction::Transactable;

    #[tokio::test]
    async fn the_workspace_read_follows_every_change_and_is_shared_between_them() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).await.unwrap());
        let hub = Hub::open(store).await.unwrap();
        let first = hub.workspace().await.unwrap();
        let again = hub.workspace().await.unwrap();
        assert!(
            Arc::ptr_eq(&first, &again),
            "an unchanged workspace is read once"
        );

        crate::team::add_channel(&hub, "Chat", "chat")
            .await
            .unwrap();
        let changed = hub.workspace().await.unwrap();
        assert_eq!(changed.channels.len(), first.channels.len() + 1);

        // A change that fails leaves the workspace as it was.
        let failed = hub
            .change_workspace(Vec::new(), |doc, _| {
                doc.put(baton_shared::automerge::ROOT, "name", "Half-made")?;
                Err::<(), _>(OpError::Automerge("refused".into()))
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            hub.workspace().await.unwrap().settings.name,
            changed.settings.name
        );
    }
}
