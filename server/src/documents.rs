//! Documents held in memory, loaded from the store on first use and kept in
//! step with it: each holds the heads it was last saved at, so only new
//! changes are written (`save_after`), and picks up commits made by another
//! process (the CLI) before it is used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use baton_shared::automerge::{AutoCommit, ChangeHash};
use baton_shared::ids::DocumentId;
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::store::{DocumentKind, Store, StoreError, Write};

/// Chunks after which a document is compacted into a new snapshot.
const COMPACT_AFTER: usize = 64;

/// One document and what the store has of it.
pub struct Held {
    pub id: DocumentId,
    pub kind: DocumentKind,
    pub doc: AutoCommit,
    saved: Vec<ChangeHash>,
    pending: Option<Vec<ChangeHash>>,
    seq: u64,
    chunks: usize,
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
        Ok(Held {
            id,
            kind: stored.kind,
            saved: doc.get_heads(),
            pending: None,
            seq: stored.last_seq,
            chunks: stored.chunks.len(),
            doc,
        })
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
            chunk: if compact {
                Vec::new()
            } else {
                self.doc.save_after(&self.saved)
            },
            snapshot: compact.then(|| self.doc.save()),
        };
        self.pending = Some(heads);
        Some(write)
    }

    /// Records that the pending write was committed with sequence `seq`.
    pub fn committed(&mut self, seq: u64) {
        if let Some(heads) = self.pending.take() {
            self.saved = heads;
            self.chunks = if self.chunks + 1 >= COMPACT_AFTER {
                1
            } else {
                self.chunks + 1
            };
            self.seq = self.seq.max(seq);
        }
    }

    /// The sequence of the latest commit this copy has.
    pub fn seq(&self) -> u64 {
        self.seq
    }
}

/// The documents this process holds.
pub struct Documents {
    store: Arc<dyn Store>,
    held: Mutex<HashMap<DocumentId, Arc<AsyncMutex<Option<Held>>>>>,
}

impl Documents {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Documents {
            store,
            held: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, id: DocumentId) -> Arc<AsyncMutex<Option<Held>>> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.entry(id).or_default().clone()
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
                    }
                    held.saved = held.doc.get_heads();
                }
                _ => {
                    let stored = self.store.document(&id).await?.ok_or_else(|| {
                        StoreError::Corrupt(format!("document {id} vanished while loading"))
                    })?;
                    *guard = Some(Held::load(id, stored)?);
                }
            }
        }
        Ok(Some(Locked { guard }))
    }

    /// Holds a newly created document (already committed with `seq`).
    pub async fn insert(&self, id: DocumentId, kind: DocumentKind, mut doc: AutoCommit, seq: u64) {
        let saved = doc.get_heads();
        let mut guard = self.slot(id).lock_owned().await;
        *guard = Some(Held {
            id,
            kind,
            doc,
            saved,
            pending: None,
            seq,
            chunks: 1,
        });
    }

    /// Forgets the in-memory copy (after a failed commit), so the next use
    /// reloads what is durable.
    pub fn forget(&self, id: &DocumentId) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.remove(id);
    }
}

/// A document locked for exclusive use.
pub struct Locked {
    guard: OwnedMutexGuard<Option<Held>>,
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
