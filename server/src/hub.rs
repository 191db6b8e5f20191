//! The server's core: the store, the documents it holds, who is connected,
//! and the one place where a change is committed together with everything it
//! implies (projection, replies to deliver, notifications, fan-out). The HTTP
//! API, live sync, the command line and the demo all go through here.

pub(crate) mod change;
mod online;
mod presence;
mod receive;
pub(crate) mod watch;
mod workflows;

pub use online::ONLINE_RETENTION_MS;
pub use receive::{PeerDoc, Received, Sender, admit, principal_key};

use std::collections::HashMap;
use std::sync::Arc;

use automerge::{ActorId, AutoCommit, ChangeHash};
use baton_shared::ReadError;
use baton_shared::ids::DocumentId;
use baton_shared::model::Conversation;
use baton_shared::operations::OpError;
use baton_shared::workspace::{self, Workspace};

use crate::fanout::Live;
use crate::resident::{Documents, Locked, heads_hex};
use crate::store::{DocumentKind, NotificationRow, Reads, Receipt, Store, StoreError, Wait, Write};
use change::{first_seq, server_bindings};

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
    /// A rule of the team refused the change (the last admin).
    #[error("{0}")]
    Refused(String),
    /// Others kept changing the same document; the client may retry.
    #[error("the document kept changing while this change was made; try again")]
    Contended,
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
    store: Arc<dyn Store>,
    documents: Documents,
    live: Live,
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
    /// Changes redone because another writer had moved their document.
    stale_retries: std::sync::atomic::AtomicU64,
    /// Whether this node sweeps for unassigned conversations.
    leading: std::sync::atomic::AtomicBool,
    /// Presence on its way to the other nodes, once relayed.
    presence_out: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<PresenceOut>>>,
}

/// Presence on its way to the other nodes.
type PresenceOut = (DocumentId, baton_shared::protocol::Presence);

/// How many actor bindings [`Hub::actor_owner`] remembers before starting over.
const REMEMBERED_ACTORS: usize = 10_000;

impl Hub {
    /// Opens the hub, creating the workspace document on first start. Nodes
    /// starting together on an empty database take turns (a lock every
    /// process on the store shares), so exactly one workspace is made.
    pub async fn open(store: Arc<dyn Store>) -> Result<Arc<Hub>, HubError> {
        let actor = ActorId::random();
        store
            .commit(vec![Write::BindActor {
                actor: actor.to_hex_string(),
                principal: SERVER_PRINCIPAL.to_owned(),
            }])
            .await?;
        let documents = Documents::new(store.clone(), actor.clone());
        let bootstrap = store.lock("bootstrap", Wait::Block).await?;
        let workspace = match store.meta(WORKSPACE_KEY).await? {
            Some(id) => id
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("stored workspace id {id:?}: {e}")))?,
            None => create_workspace(&*store, &documents, &actor).await?,
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
            stale_retries: Default::default(),
            leading: Default::default(),
            presence_out: std::sync::Mutex::new(None),
        });
        // Workspaces made before workflows existed get their (empty) map now.
        hub.change_workspace(Vec::new(), |doc, _| {
            Ok(workspace::ensure_workflows(
                doc,
                baton_shared::clock::now(),
            )?)
        })
        .await?;
        if let Some(bootstrap) = bootstrap {
            bootstrap.release().await;
        }
        Ok(hub)
    }

    /// The store, with what other processes sharing it can see of this one.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The workspace document's id.
    pub fn workspace_id(&self) -> DocumentId {
        self.workspace
    }

    /// The store, to read from. Every write goes through the hub, so that
    /// it commits with what it implies and everyone connected is told.
    pub fn reads(&self) -> &dyn Reads {
        &*self.store
    }

    /// Commits writes that touch no document (sign-in, sessions, tokens,
    /// channels' secrets, meta); a document changes only through
    /// [`Hub::change_workspace`] and the conversation changes.
    pub async fn commit(&self, writes: Vec<Write>) -> Result<Receipt, HubError> {
        if writes.iter().any(|w| matches!(w, Write::Document { .. })) {
            return Err(HubError::Store(StoreError::Conflict(
                "documents change only through the hub's changes".to_owned(),
            )));
        }
        Ok(self.store.commit(writes).await?)
    }

    /// Who is connected to this process, and what each still has to send.
    pub fn connections(&self) -> &Live {
        &self.live
    }

    /// A copy of the document as held here (for tests and tools).
    pub async fn copy_of(&self, id: DocumentId) -> Result<AutoCommit, HubError> {
        Ok(self.lock(id).await?.doc.fork())
    }

    /// Drops the copy held here: the next use loads it from the store.
    pub fn forget(&self, id: &DocumentId) {
        self.documents.forget(id);
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

/// Makes the workspace document of a new database.
async fn create_workspace(
    store: &dyn Store,
    documents: &Documents,
    actor: &ActorId,
) -> Result<DocumentId, HubError> {
    let id = DocumentId::random();
    let mut doc = workspace::create("Baton", baton_shared::clock::now()).map_err(OpError::from)?;
    let mut writes = server_bindings(&mut doc, &[], actor);
    writes.push(Write::Document {
        id,
        kind: DocumentKind::Workspace,
        heads: heads_hex(&doc.get_heads()),
        chunk: doc.save(),
        snapshot: None,
        after: None,
    });
    // Written once: a second workspace could never be made the one.
    writes.push(Write::MetaOnce {
        key: WORKSPACE_KEY.to_owned(),
        value: id.to_string(),
    });
    let bytes = doc.save().len();
    let receipt = store.commit(writes).await?;
    documents
        .insert(id, DocumentKind::Workspace, doc, first_seq(&receipt), bytes)
        .await;
    Ok(id)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly by design

    use super::*;
    use crate::store::SqlStore;
    use automerge::transaction::Transactable;

    #[tokio::test]
    async fn the_workspace_read_follows_every_change_and_is_shared_between_them() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir.path()).await.unwrap());
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
                doc.put(automerge::ROOT, "name", "Half-made")
                    .map_err(OpError::from)?;
                Err::<(), _>(OpError::Automerge("refused".into()).into())
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            hub.workspace().await.unwrap().settings.name,
            changed.settings.name
        );
    }
}
