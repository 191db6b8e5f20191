//! Documents held in memory, loaded from the store on first use and kept in
//! step with it: each holds the heads it was last saved at, so only new
//! changes are written (`save_after`), and picks up commits made by another
//! process (the CLI) before it is used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use baton_shared::automerge::sync;
use baton_shared::automerge::{ActorId, AutoCommit, ChangeHash};
use baton_shared::ids::DocumentId;
use baton_shared::validate::{Totals, count_ops};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::store::{DocumentKind, Receipt, Store, StoreError, Write};

mod sync_memo;
use sync_memo::SyncMemo;

/// Chunks after which a document is compacted into a new snapshot.
const COMPACT_AFTER: usize = 64;

/// One document and what the store has of it.
pub struct Held {
    pub id: DocumentId,
    pub kind: DocumentKind,
    pub doc: AutoCommit,
    /// Sync answers shared by the peers that stand in the same state.
    sync_memo: SyncMemo,
    saved: Vec<ChangeHash>,
    pending: Option<Vec<ChangeHash>>,
    seq: u64,
    chunks: usize,
    /// Operations and stored bytes, for the document's total limits.
    totals: Totals,
}

/// Strips a sync message's capability flags: the server speaks as a v1
/// peer, so honest clients send it changes, never whole documents (which
/// could not be checked before they are applied).
fn as_v1_peer(message: Option<sync::Message>) -> Option<sync::Message> {
    message.map(|mut m| {
        m.flags = None;
        m
    })
}

impl Held {
    fn load(id: DocumentId, stored: crate::store::StoredDocument) -> Result<Held, StoreError> {
        let corrupt = |e: baton_shared::automerge::AutomergeError| {
            StoreError::Corrupt(format!("document {id}: {e}"))
        };
        let mut doc = match &stored.snapshot {
            Some(snapshot) => AutoCommit::load(snapshot).map_err(corrupt)?,
            None => AutoCommit::new(),
        };
        for chunk in stored.chunks.iter().filter(|c| !c.is_empty()) {
            doc.load_incremental(chunk).map_err(corrupt)?;
        }
        let bytes = stored.snapshot.as_ref().map_or(0, Vec::len)
            + stored.chunks.iter().map(Vec::len).sum::<usize>();
        Ok(Held {
            id,
            kind: stored.kind,
            saved: doc.get_heads(),
            pending: None,
            seq: stored.last_seq,
            chunks: stored.chunks.len(),
            totals: Totals {
                ops: count_ops(&mut doc),
                bytes,
            },
            doc,
            sync_memo: SyncMemo::default(),
        })
    }

    /// What the document holds, for its total limits.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Whether the document holds changes not yet written to the store.
    pub fn has_unsaved(&mut self) -> bool {
        self.doc.get_heads() != self.saved
    }

    /// The write that persists every change made since the last save, or
    /// `None` if there is nothing new. Call [`Held::committed`] once durable.
    pub fn pending_write(&mut self) -> Option<Write> {
        let heads = self.doc.get_heads();
        if heads == self.saved {
            return None;
        }
        let compact = self.chunks + 1 >= COMPACT_AFTER;
        let write = Write::Document {
            id: self.id,
            kind: self.kind,
            after: Some(self.seq),
            heads: heads_hex(&heads),
            chunk: if compact {
                Vec::new()
            } else {
                self.doc.save_after(&self.saved)
            },
            snapshot: compact.then(|| self.doc.save()),
        };
        if let Write::Document {
            snapshot: Some(snapshot),
            ..
        } = &write
        {
            self.totals.bytes = snapshot.len();
        }
        self.pending = Some(heads);
        Some(write)
    }

    /// Records that the pending write was committed (the receipt's first
    /// document write).
    pub fn committed(&mut self, receipt: &Receipt) {
        let seq = receipt.seqs.first().copied().unwrap_or_default();
        if let Some(heads) = self.pending.take() {
            self.saved = heads;
            self.chunks = if self.chunks + 1 >= COMPACT_AFTER {
                1
            } else {
                self.chunks + 1
            };
            // Overtaken by another process's commit: the sequence stays
            // behind it, so the next lock or catch-up loads it (and this
            // write's own chunk again, which changes nothing).
            if !receipt.overtaken.contains(&seq) {
                self.seq = self.seq.max(seq);
            }
        }
    }

    /// Replaces the document with `doc`, a validated fork holding `change`
    /// besides what this copy held; keeps the actor.
    pub fn accept(&mut self, mut doc: AutoCommit, change: &baton_shared::automerge::Change) {
        doc.set_actor(self.doc.get_actor().clone());
        self.doc = doc;
        self.totals.ops += change.len();
        self.totals.bytes += change.raw_bytes().len();
    }

    /// The next sync message for a peer in `state`.
    pub fn generate_sync(&mut self, state: &mut sync::State) -> Option<sync::Message> {
        as_v1_peer(self.sync_memo.generate(&mut self.doc, state))
    }

    /// Receives a sync message without changes and returns the reply.
    pub fn acknowledge_sync(
        &mut self,
        state: &mut sync::State,
        message: sync::Message,
    ) -> Result<Option<sync::Message>, baton_shared::automerge::AutomergeError> {
        Ok(as_v1_peer(self.sync_memo.acknowledge(
            &mut self.doc,
            state,
            message,
        )?))
    }

    /// The sequence of the latest commit this copy has.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// Heads as the hex strings catch-up sends.
pub fn heads_hex(heads: &[ChangeHash]) -> Vec<String> {
    heads.iter().map(|h| h.to_string()).collect()
}

/// Most documents held in memory at once; the least recently used are
/// dropped past this (they reload from the store when next used). At the
/// ~10 KB of a typical conversation this bounds resident documents to
/// roughly 200 MB.
pub const MAX_RESIDENT: usize = 20_000;

type Slot = Arc<AsyncMutex<Option<Held>>>;

/// The documents this process holds.
pub struct Documents {
    store: Arc<dyn Store>,
    /// This process's actor: every change the server makes is made as it.
    actor: ActorId,
    held: Mutex<Resident>,
    max_resident: usize,
}

/// Held documents with when each was last used.
#[derive(Default)]
struct Resident {
    slots: HashMap<DocumentId, (Slot, u64)>,
    clock: u64,
}

impl Resident {
    /// Drops the least recently used documents nobody is using right now.
    fn evict(&mut self, keep: usize) {
        if self.slots.len() <= keep {
            return;
        }
        let mut by_age: Vec<(u64, DocumentId)> = self
            .slots
            .iter()
            .map(|(id, (_, used))| (*used, *id))
            .collect();
        by_age.sort_unstable();
        let excess = self.slots.len() - keep;
        for (_, id) in by_age.into_iter().take(excess + keep / 10) {
            let idle = self
                .slots
                .get(&id)
                .is_some_and(|(slot, _)| Arc::strong_count(slot) == 1 && slot.try_lock().is_ok());
            if idle {
                self.slots.remove(&id);
            }
        }
    }
}

impl Documents {
    pub fn new(store: Arc<dyn Store>, actor: ActorId) -> Self {
        Self::with_capacity(store, actor, MAX_RESIDENT)
    }

    pub fn with_capacity(store: Arc<dyn Store>, actor: ActorId, max_resident: usize) -> Self {
        Documents {
            store,
            actor,
            held: Mutex::new(Resident::default()),
            max_resident,
        }
    }

    fn slot(&self, id: DocumentId) -> Slot {
        let mut resident = self.held.lock().unwrap_or_else(|e| e.into_inner());
        resident.clock += 1;
        let now = resident.clock;
        if !resident.slots.contains_key(&id) && resident.slots.len() >= self.max_resident {
            resident.evict(self.max_resident - 1);
        }
        let (slot, used) = resident.slots.entry(id).or_default();
        *used = now;
        slot.clone()
    }

    /// How many documents are in memory.
    pub fn resident(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .slots
            .len()
    }

    /// Locks the document for exclusive use, loading it or catching up with
    /// the store first. `None` if no such document is stored.
    pub async fn lock(&self, id: DocumentId) -> Result<Option<Locked>, StoreError> {
        let mut guard = self.slot(id).lock_owned().await;
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
        Ok(Some(Locked { guard }))
    }

    /// Locks `id` as held, without asking the store whether another process
    /// changed it; falls back to [`Documents::lock`] when it is not held.
    /// For answering sync, where the store's round trip per message was
    /// most of the cost; changes always go through `lock`, and commits from
    /// elsewhere reach held copies through [`Documents::caught_up`].
    pub async fn lock_held(&self, id: DocumentId) -> Result<Option<Locked>, StoreError> {
        let guard = self.slot(id).lock_owned().await;
        if guard.is_some() {
            return Ok(Some(Locked { guard }));
        }
        drop(guard);
        self.lock(id).await
    }

    /// The store has commit `seq` of `id`. A held copy without it catches up
    /// (the commit came from another process). Whether peers need telling:
    /// true unless the copy held here already had it (a commit of this
    /// process, announced when it was made).
    pub async fn caught_up(&self, id: DocumentId, seq: u64) -> Result<bool, StoreError> {
        let slot = {
            let resident = self.held.lock().unwrap_or_else(|e| e.into_inner());
            resident.slots.get(&id).map(|(slot, _)| slot.clone())
        };
        let Some(slot) = slot else {
            return Ok(true);
        };
        let held_seq = slot.lock().await.as_ref().map(|held| held.seq);
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
        let saved = doc.get_heads();
        doc.set_actor(self.actor.clone());
        let totals = Totals {
            ops: count_ops(&mut doc),
            bytes,
        };
        let mut guard = self.slot(id).lock_owned().await;
        *guard = Some(Held {
            id,
            kind,
            doc,
            saved,
            pending: None,
            seq,
            chunks: 1,
            totals,
            sync_memo: SyncMemo::default(),
        });
    }

    /// Forgets the in-memory copy (after a failed commit), so the next use
    /// reloads what is durable.
    pub fn forget(&self, id: &DocumentId) {
        let mut resident = self.held.lock().unwrap_or_else(|e| e.into_inner());
        resident.slots.remove(id);
    }
}

/// A document locked for exclusive use.
pub struct Locked {
    guard: OwnedMutexGuard<Option<Held>>,
}

impl Locked {
    /// Drops this copy, changes not yet committed and all: whoever waits
    /// for the document next (or uses it next) loads what is durable.
    pub fn discard(mut self) {
        *self.guard = None;
    }
}

impl std::ops::Deref for Locked {
    type Target = Held;
    fn deref(&self) -> &Held {
        // `Documents::lock` only hands out a `Locked` when the slot is filled.
        #[allow(clippy::expect_used)]
        self.guard.as_ref().expect("a locked document is loaded")
    }
}

impl std::ops::DerefMut for Locked {
    fn deref_mut(&mut self) -> &mut Held {
        #[allow(clippy::expect_used)]
        self.guard.as_mut().expect("a locked document is loaded")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;
    use crate::store::Write;

    #[tokio::test]
    async fn least_recently_used_documents_leave_memory_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).await.unwrap());
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
    async fn a_commit_from_another_process_before_ours_is_kept_even_by_a_compaction() {
        use baton_shared::automerge::ROOT;
        use baton_shared::automerge::ReadDoc;
        use baton_shared::automerge::transaction::Transactable;

        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).await.unwrap());
        let documents = Documents::new(store.clone(), ActorId::random());
        let id = DocumentId::random();
        let mut elsewhere = baton_shared::workspace::create("x", 1).unwrap();
        commit_elsewhere(&store, id, &mut elsewhere, &[]).await;
        let mut held = documents.lock(id).await.unwrap().unwrap();
        // The command line commits after this copy's look at the store...
        let before = elsewhere.get_heads();
        elsewhere.put(ROOT, "cli", "from the CLI").unwrap();
        let theirs = commit_elsewhere(&store, id, &mut elsewhere, &before).await;
        // ...and this copy's next write is due to compact the document.
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
        let receipt = store.commit(vec![write]).await.unwrap();
        assert_eq!(receipt.overtaken, receipt.seqs, "the write was overtaken");
        held.committed(&receipt);
        drop(held);

        // The held copy stays behind their commit, so catching up brings it in.
        assert!(documents.caught_up(id, theirs).await.unwrap());
        let both = |doc: &AutoCommit| {
            doc.get(ROOT, "cli").unwrap().is_some() && doc.get(ROOT, "server").unwrap().is_some()
        };
        assert!(both(&documents.lock_held(id).await.unwrap().unwrap().doc));
        // The store kept their chunk: a fresh load has both changes.
        documents.forget(&id);
        assert!(both(&documents.lock(id).await.unwrap().unwrap().doc));
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
        use baton_shared::automerge::ReadDoc;
        use baton_shared::automerge::transaction::Transactable;

        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).await.unwrap());
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
            .put(baton_shared::automerge::ROOT, "note", "from the CLI")
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
        assert!(
            held.doc
                .get(baton_shared::automerge::ROOT, "note")
                .unwrap()
                .is_some()
        );
        drop(held);
        assert!(!documents.caught_up(id, second).await.unwrap());
        // A document not held here is announced; whoever syncs it loads it.
        assert!(documents.caught_up(DocumentId::random(), 1).await.unwrap());
    }
}
