//! Documents held in memory, loaded from the store on first use and kept in
//! step with it: each holds the heads it was last saved at, so only new
//! changes are written (`save_after`), and picks up commits made by another
//! process (the CLI, another node) before it is used. The least recently
//! used leave memory first, never one somebody is using.

mod held;
mod sync_memo;

pub use held::{Held, Locked, heads_hex};

use std::sync::Arc;

use automerge::{ActorId, AutoCommit};
use baton_shared::ids::DocumentId;
use baton_shared::validate::count_ops;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::store::{DocumentKind, Store, StoreError};

/// Most documents held in memory at once; the least recently used are
/// dropped past this (they reload from the store when next used). At the
/// ~10 KB of a typical conversation this bounds resident documents to
/// roughly 200 MB.
pub const MAX_RESIDENT: usize = 20_000;

type Slot = Arc<AsyncMutex<Option<Held>>>;

/// Keeps a document in memory while anyone holds or waits for it.
#[derive(Clone, Default)]
struct InUse;

impl Lifecycle<DocumentId, Slot> for InUse {
    type RequestState = ();

    fn begin_request(&self) -> Self::RequestState {}

    fn is_pinned(&self, _: &DocumentId, slot: &Slot) -> bool {
        Arc::strong_count(slot) > 1 || slot.try_lock().is_err()
    }
}

/// The documents this process holds.
pub struct Documents {
    store: Arc<dyn Store>,
    /// This process's actor: every change the server makes is made as it.
    actor: ActorId,
    slots: Cache<DocumentId, Slot, UnitWeighter, DefaultHashBuilder, InUse>,
}

impl Documents {
    pub fn new(store: Arc<dyn Store>, actor: ActorId) -> Self {
        Self::with_capacity(store, actor, MAX_RESIDENT)
    }

    pub fn with_capacity(store: Arc<dyn Store>, actor: ActorId, max_resident: usize) -> Self {
        Documents {
            store,
            actor,
            slots: Cache::with(
                max_resident,
                max_resident as u64,
                UnitWeighter,
                DefaultHashBuilder::default(),
                InUse,
            ),
        }
    }

    fn slot(&self, id: DocumentId) -> Slot {
        let made = self
            .slots
            .get_or_insert_with(&id, || Ok::<_, std::convert::Infallible>(Slot::default()));
        match made {
            Ok(slot) => slot,
            Err(never) => match never {},
        }
    }

    /// How many documents are in memory.
    pub fn resident(&self) -> usize {
        self.slots.len()
    }

    /// The slot's copy, if it is there to use.
    fn usable(
        guard: OwnedMutexGuard<Option<Held>>,
    ) -> Result<Locked, OwnedMutexGuard<Option<Held>>> {
        let ok = guard.as_ref().is_some_and(Held::usable);
        if !ok {
            return Err(guard);
        }
        OwnedMutexGuard::try_map(guard, Option::as_mut).map(|guard| Locked { guard })
    }

    /// Locks the document for exclusive use, loading it or catching up with
    /// the store first. `None` if no such document is stored.
    pub async fn lock(&self, id: DocumentId) -> Result<Option<Locked>, StoreError> {
        let mut guard = self.slot(id).lock_owned().await;
        if guard.as_ref().is_some_and(|h| !h.usable()) {
            *guard = None;
        }
        let stored_seq = self.store.document_seq(&id).await?;
        let Some(stored_seq) = stored_seq else {
            *guard = None;
            return Ok(None);
        };
        let fresh = guard.as_ref().is_some_and(|h| h.seq >= stored_seq);
        if !fresh {
            let newer = match guard.as_ref() {
                Some(held) => self.store.chunks_after(&id, held.seq).await?,
                None => Vec::new(),
            };
            let compacted = newer.iter().any(|(_, chunk)| chunk.is_empty());
            match guard.as_mut() {
                Some(held) if !compacted && !newer.is_empty() => {
                    for (seq, chunk) in newer {
                        held.doc
                            .load_incremental(&chunk)
                            .map_err(|e| StoreError::Corrupt(format!("document {id}: {e}")))?;
                        held.seq = seq;
                        held.chunks += 1;
                        held.totals.bytes += chunk.len();
                    }
                    held.saved = held.doc.get_heads();
                    held.totals.ops = count_ops(&mut held.doc);
                }
                _ => {
                    let stored = self.store.document(&id).await?.ok_or_else(|| {
                        StoreError::Corrupt(format!("document {id} vanished while loading"))
                    })?;
                    let mut held = Held::load(id, stored)?;
                    held.doc.set_actor(self.actor.clone());
                    *guard = Some(held);
                }
            }
        }
        Ok(Self::usable(guard).ok())
    }

    /// Locks `id` as held, without asking the store whether another process
    /// changed it; falls back to [`Documents::lock`] when it is not held.
    /// For answering sync, where the store's round trip per message was
    /// most of the cost; changes always go through `lock`, and commits from
    /// elsewhere reach held copies through [`Documents::caught_up`].
    pub async fn lock_held(&self, id: DocumentId) -> Result<Option<Locked>, StoreError> {
        match Self::usable(self.slot(id).lock_owned().await) {
            Ok(locked) => Ok(Some(locked)),
            Err(guard) => {
                drop(guard);
                self.lock(id).await
            }
        }
    }

    /// The store has commit `seq` of `id`. A held copy without it catches up
    /// (the commit came from another process). Whether peers need telling:
    /// true unless the copy held here already had it (a commit of this
    /// process, announced when it was made).
    pub async fn caught_up(&self, id: DocumentId, seq: u64) -> Result<bool, StoreError> {
        let Some(slot) = self.slots.get(&id) else {
            return Ok(true);
        };
        let held_seq = slot
            .lock()
            .await
            .as_ref()
            .filter(|held| held.usable())
            .map(|held| held.seq);
        match held_seq {
            Some(held) if held >= seq => Ok(false),
            Some(_) => {
                drop(self.lock(id).await?);
                Ok(true)
            }
            None => Ok(true),
        }
    }

    /// Holds a newly created document (already committed with `seq`, as
    /// a chunk of `bytes`).
    pub async fn insert(
        &self,
        id: DocumentId,
        kind: DocumentKind,
        mut doc: AutoCommit,
        seq: u64,
        bytes: usize,
    ) {
        doc.set_actor(self.actor.clone());
        let mut guard = self.slot(id).lock_owned().await;
        *guard = Some(Held::created(id, kind, doc, seq, bytes));
    }

    /// Forgets the in-memory copy, so the next use reloads what is durable.
    pub fn forget(&self, id: &DocumentId) {
        self.slots.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::held::COMPACT_AFTER;
    use super::*;
    use crate::store::SqlStore;
    use crate::store::Write;
    use automerge::ChangeHash;

    #[tokio::test]
    async fn least_recently_used_documents_leave_memory_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir.path()).await.unwrap());
        let documents = Documents::with_capacity(store.clone(), ActorId::random(), 10);
        let mut ids = Vec::new();
        for _ in 0..30 {
            let id = DocumentId::random();
            let mut doc = baton_shared::workspace::create("x", 1).unwrap();
            commit_elsewhere(&store, id, &mut doc, &[]).await;
            ids.push(id);
        }
        for id in &ids {
            assert!(documents.lock(*id).await.unwrap().is_some());
        }
        assert!(
            documents.resident() <= 10,
            "{} resident",
            documents.resident()
        );
        // An evicted document loads again, whole.
        let first = documents.lock(ids[0]).await.unwrap().unwrap();
        assert!(baton_shared::workspace::read(&first.doc).is_ok());
    }

    #[tokio::test]
    async fn a_write_from_a_copy_another_process_overtook_is_refused_and_keeps_theirs() {
        use automerge::ROOT;
        use automerge::ReadDoc;
        use automerge::transaction::Transactable;

        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir.path()).await.unwrap());
        let documents = Documents::new(store.clone(), ActorId::random());
        let id = DocumentId::random();
        let mut elsewhere = baton_shared::workspace::create("x", 1).unwrap();
        commit_elsewhere(&store, id, &mut elsewhere, &[]).await;
        let mut held = documents.lock(id).await.unwrap().unwrap();
        // The command line commits after this copy's look at the store...
        let before = elsewhere.get_heads();
        elsewhere.put(ROOT, "cli", "from the CLI").unwrap();
        commit_elsewhere(&store, id, &mut elsewhere, &before).await;
        // ...and this copy's next write is due to compact the document,
        // which would replace their chunk with a snapshot that lacks it.
        held.doc.put(ROOT, "server", "from the server").unwrap();
        held.chunks = COMPACT_AFTER;
        let write = held.pending_write().unwrap();
        assert!(matches!(
            &write,
            Write::Document {
                snapshot: Some(_),
                ..
            }
        ));
        let refused = store.commit(vec![write]).await;
        assert!(
            matches!(refused, Err(crate::store::StoreError::Stale(_))),
            "{refused:?}"
        );
        held.discard();
        drop(held);

        // Theirs is kept; ours was not written, and the copy reloads with theirs.
        let copy = documents.lock(id).await.unwrap().unwrap();
        assert!(copy.doc.get(ROOT, "cli").unwrap().is_some());
        assert!(copy.doc.get(ROOT, "server").unwrap().is_none());
    }

    /// Commits `doc`'s changes since `since`, as another process would.
    async fn commit_elsewhere(
        store: &Arc<dyn Store>,
        id: DocumentId,
        doc: &mut AutoCommit,
        since: &[ChangeHash],
    ) -> u64 {
        let receipt = store
            .commit(vec![Write::Document {
                id,
                kind: DocumentKind::Workspace,
                chunk: doc.save_after(since),
                snapshot: None,
                heads: heads_hex(&doc.get_heads()),
                after: None,
            }])
            .await
            .unwrap();
        receipt.seqs[0]
    }

    #[tokio::test]
    async fn a_commit_from_another_process_reaches_the_held_copy_once_caught_up() {
        use automerge::ReadDoc;
        use automerge::transaction::Transactable;

        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir.path()).await.unwrap());
        let documents = Documents::new(store.clone(), ActorId::random());
        let id = DocumentId::random();
        let mut elsewhere = baton_shared::workspace::create("x", 1).unwrap();
        let first = commit_elsewhere(&store, id, &mut elsewhere, &[]).await;
        assert!(documents.lock(id).await.unwrap().is_some());
        assert!(
            !documents.caught_up(id, first).await.unwrap(),
            "a commit the held copy has needs no announcing"
        );

        let before = elsewhere.get_heads();
        elsewhere
            .put(automerge::ROOT, "note", "from the CLI")
            .unwrap();
        let second = commit_elsewhere(&store, id, &mut elsewhere, &before).await;
        // Answering sync uses the held copy as it is...
        let mut held = documents.lock_held(id).await.unwrap().unwrap();
        assert_eq!(held.doc.get_heads(), before);
        drop(held);
        // ...until the watcher sees the commit and brings it in.
        assert!(documents.caught_up(id, second).await.unwrap());
        let mut held = documents.lock_held(id).await.unwrap().unwrap();
        assert_eq!(held.doc.get_heads(), elsewhere.get_heads());
        assert!(held.doc.get(automerge::ROOT, "note").unwrap().is_some());
        drop(held);
        assert!(!documents.caught_up(id, second).await.unwrap());
        // A document not held here is announced; whoever syncs it loads it.
        assert!(documents.caught_up(DocumentId::random(), 1).await.unwrap());
    }
}
