//! One document held in memory: the Automerge document, what the store has
//! of it (the heads it was saved at, the commit it is in step with), what
//! it holds in all (for its limits), and the sync answers its peers share.

use automerge::sync;
use automerge::{AutoCommit, ChangeHash};
use axum::body::Bytes;
use baton_shared::ids::DocumentId;
use baton_shared::protocol;
use baton_shared::validate::{Totals, count_ops};
use tokio::sync::OwnedMappedMutexGuard;

use super::sync_memo::SyncMemo;
use crate::store::{DocumentKind, Receipt, StoreError, StoredDocument, Write};

/// Chunks after which a document is compacted into a new snapshot.
pub(super) const COMPACT_AFTER: usize = 64;

/// One document and what the store has of it.
pub struct Held {
    pub id: DocumentId,
    pub kind: DocumentKind,
    pub doc: AutoCommit,
    /// Sync answers shared by the peers that stand in the same state.
    sync_memo: SyncMemo,
    pub(super) saved: Vec<ChangeHash>,
    pending: Option<Vec<ChangeHash>>,
    pub(super) seq: u64,
    pub(super) chunks: usize,
    /// Operations and stored bytes, for the document's total limits.
    pub(super) totals: Totals,
    /// Dropped after a failed commit or a panic: the next use reloads it.
    pub(super) discarded: bool,
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
    pub(super) fn load(id: DocumentId, stored: StoredDocument) -> Result<Held, StoreError> {
        let corrupt =
            |e: automerge::AutomergeError| StoreError::Corrupt(format!("document {id}: {e}"));
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
            discarded: false,
        })
    }

    /// A document just created and committed with `seq`, as a chunk of
    /// `bytes`.
    pub(super) fn created(
        id: DocumentId,
        kind: DocumentKind,
        mut doc: AutoCommit,
        seq: u64,
        bytes: usize,
    ) -> Held {
        Held {
            id,
            kind,
            saved: doc.get_heads(),
            pending: None,
            seq,
            chunks: 1,
            totals: Totals {
                ops: count_ops(&mut doc),
                bytes,
            },
            doc,
            sync_memo: SyncMemo::default(),
            discarded: false,
        }
    }

    /// Whether this copy can be used as it is (not dropped).
    pub(super) fn usable(&self) -> bool {
        !self.discarded
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
    /// document write). The store refuses a write whose copy fell behind,
    /// so a committed write is always the document's latest commit.
    pub fn committed(&mut self, receipt: &Receipt) {
        let seq = receipt.seqs.first().copied().unwrap_or_default();
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

    /// Replaces the document with `doc`, a validated fork holding `change`
    /// besides what this copy held; keeps the actor.
    pub fn accept(&mut self, mut doc: AutoCommit, change: &automerge::Change) {
        doc.set_actor(self.doc.get_actor().clone());
        self.doc = doc;
        self.totals.ops += change.len();
        self.totals.bytes += change.raw_bytes().len();
    }

    /// The next sync message for a peer in `state`.
    pub fn generate_sync(&mut self, state: &mut sync::State) -> Option<sync::Message> {
        as_v1_peer(self.sync_memo.generate(&mut self.doc, state))
    }

    /// The next sync message for a peer in `state` as the tail of a `sync`
    /// frame (`protocol::sync_tail`): encoded once for every peer in the
    /// same state, so a fan-out shares one buffer.
    pub fn generate_sync_tail(&mut self, state: &mut sync::State) -> Option<Bytes> {
        let id = self.id;
        self.sync_memo
            .generate_encoded(&mut self.doc, state, |message| {
                let data = as_v1_peer(Some(message.clone())).map(|m| m.encode());
                Bytes::from(protocol::sync_tail(&id, &data.unwrap_or_default()))
            })
    }

    /// Receives a sync message without changes and returns the reply.
    pub fn acknowledge_sync(
        &mut self,
        state: &mut sync::State,
        message: sync::Message,
    ) -> Result<Option<sync::Message>, automerge::AutomergeError> {
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

/// A document locked for exclusive use.
pub struct Locked {
    pub(super) guard: OwnedMappedMutexGuard<Option<Held>, Held>,
}

impl Locked {
    /// Drops this copy, changes not yet committed and all: whoever waits
    /// for the document next (or uses it next) loads what is durable.
    pub fn discard(&mut self) {
        self.guard.discarded = true;
    }
}

impl std::ops::Deref for Locked {
    type Target = Held;
    fn deref(&self) -> &Held {
        &self.guard
    }
}

impl std::ops::DerefMut for Locked {
    fn deref_mut(&mut self) -> &mut Held {
        &mut self.guard
    }
}
