//! Keeping the agent's work on this device. An action is written at once,
//! in one IndexedDB transaction with its row and the outbox, and counts as
//! done only when that commits; changes from the server are written in the
//! background, a burst at a time. Either way each write carries the whole
//! metadata (catch-up sequence, what was seen, the outbox, the bell), so
//! the documents and what is said about them never disagree after a reload.

use std::future::Future;
use std::time::Duration;

use baton_shared::conversation;
use baton_shared::ids::DocumentId;
use leptos::prelude::*;

use super::client::Client;
use super::summary::Summary;
use crate::storage::{DocWrite, StorageError};

/// How long server changes wait before they are written, so a burst (a
/// catch-up) is one transaction.
const PERSIST_AFTER: Duration = Duration::from_millis(150);
/// Documents saved per background transaction, so no save blocks the page long.
const PERSIST_BATCH: usize = 100;

/// A document to write, with its inbox row (none for the workspace).
pub(super) type Save = (DocumentId, Option<String>);

/// A document's bytes taken at one moment, to be written later.
pub(super) struct Saved {
    pub(super) doc: DocumentId,
    /// Its heads when the bytes were taken.
    heads: Vec<automerge::ChangeHash>,
    bytes: Vec<u8>,
    /// Its inbox row, as JSON.
    pub(super) row: Option<String>,
}

impl Saved {
    /// Bytes of `doc` taken at `heads` elsewhere (a document that came
    /// whole from the server is kept as it came).
    pub(super) fn taken(
        doc: DocumentId,
        heads: Vec<automerge::ChangeHash>,
        bytes: Vec<u8>,
        row: Option<String>,
    ) -> Saved {
        Saved {
            doc,
            heads,
            bytes,
            row,
        }
    }
}

impl Client {
    /// Writes `docs` (and the metadata) now; resolves once it is durable.
    pub(super) async fn keep(self, docs: Vec<Save>) {
        let Some(write) = self.write_now(docs) else {
            return;
        };
        let result = write.await;
        self.written(result);
    }

    /// Writes documents already snapshotted with [`Self::snapshot`] (and
    /// the metadata); the future waits for their transaction to commit.
    pub(super) fn keep_saved(self, saved: Vec<Saved>) -> impl Future<Output = ()> {
        let write = self.write_saved(saved);
        async move {
            if let Some(write) = write {
                let result = write.await;
                self.written(result);
            }
        }
    }

    /// The bytes of `doc` as they are now (uncompressed: deflating every
    /// document was most of a bulk action's cost, and the bytes stay on
    /// this device), with its row.
    pub(super) fn snapshot(&self, doc: DocumentId, row: Option<String>) -> Option<Saved> {
        self.with_core(|core| {
            let held = core.docs.doc_mut(&doc)?;
            Some(Saved {
                doc,
                heads: held.get_heads(),
                bytes: held.save_nocompress(),
                row,
            })
        })
        .flatten()
    }

    /// Snapshots `docs` and the metadata and issues their transaction
    /// before returning (so a later write lands later); `None` without a
    /// database.
    fn write_now(
        &self,
        docs: Vec<Save>,
    ) -> Option<impl Future<Output = Result<(), StorageError>> + use<>> {
        let mut saved = Vec::with_capacity(docs.len());
        for (doc, row) in docs {
            match self.snapshot(doc, row) {
                Some(snapshot) => saved.push(snapshot),
                // No longer held: nothing to write, nothing left to do.
                None => _ = self.with_core(|core| core.dirty.remove(&doc)),
            }
        }
        self.write_saved(saved)
    }

    /// Issues the transaction of `saved` and the metadata.
    fn write_saved(
        &self,
        saved: Vec<Saved>,
    ) -> Option<impl Future<Output = Result<(), StorageError>> + use<>> {
        let seen = self
            .inbox
            .rows
            .with_untracked(|i| serde_json::to_string(i.seen()).unwrap_or_default());
        let notices = self.bell.with_untracked(|n| n.to_json());
        let write = self
            .with_core(|core| {
                let db = core.db.clone()?;
                let mut saves: Vec<DocWrite> = Vec::with_capacity(saved.len());
                for Saved {
                    doc,
                    heads,
                    bytes,
                    row,
                } in saved
                {
                    // A document changed since its snapshot stays to be
                    // written again.
                    let current = core.docs.doc_mut(&doc).map(|d| d.get_heads());
                    if current.as_ref() == Some(&heads) {
                        core.dirty.remove(&doc);
                    }
                    saves.push((doc.to_string(), bytes, row));
                }
                // The catch-up sequence moves on only with every document
                // it named heard from and written: a reload that kept a
                // later sequence than its documents would never ask again.
                if core.awaiting.is_empty() && core.dirty.is_empty() {
                    core.written_seq = core.docs.last_seq();
                }
                let meta = [
                    ("seq", core.written_seq.to_string()),
                    ("seen", seen),
                    ("outbox", core.outbox.to_json()),
                    ("notices", notices),
                ];
                core.writing += 1;
                Some(db.write(&saves, &meta))
            })
            .flatten()?;
        self.saved.set(false);
        Some(write)
    }

    /// A write finished: say so if it failed, and whether all is saved.
    fn written(&self, result: Result<(), StorageError>) {
        if let Err(problem) = result {
            self.toasts
                .problem(format!("Could not save for offline use: {problem}"), None);
        }
        let all = self.with_core(|core| {
            core.writing = core.writing.saturating_sub(1);
            core.writing == 0 && core.dirty.is_empty() && !core.persist_scheduled
        });
        if all == Some(true) {
            self.saved.set(true);
        }
    }

    /// The row of a conversation read from its document (the workspace has none).
    pub(super) fn row_json(&self, doc: DocumentId) -> Option<String> {
        self.read_core(|core| {
            let conversation = conversation::read(core.docs.doc(&doc)?).ok()?;
            Some(Summary::of(doc, &conversation, 0).to_json())
        })
        .flatten()
    }

    /// Draws the "Not yet synced" marks from the outbox.
    pub(super) fn draw_pending(&self) {
        let pending = self.read_core(|c| c.outbox.docs()).unwrap_or_default();
        self.set_pending(pending);
    }

    /// Writes changed documents (and the metadata) soon, in batches.
    pub(super) fn schedule_persist(&self) {
        let already = self
            .with_core(|core| std::mem::replace(&mut core.persist_scheduled, true))
            .unwrap_or(true);
        if already {
            return;
        }
        self.saved.set(false);
        let client = *self;
        set_timeout(
            move || leptos::task::spawn_local(client.persist()),
            PERSIST_AFTER,
        );
    }

    async fn persist(self) {
        let batch = self.with_core(|core| {
            core.persist_scheduled = false;
            let ids: Vec<DocumentId> = core.dirty.iter().take(PERSIST_BATCH).copied().collect();
            let saves: Vec<Save> = ids
                .iter()
                .map(|id| {
                    // The row goes with its bytes: the inbox's, unless a
                    // change has not been drawn yet (then read it here).
                    let row = if *id == core.workspace_doc {
                        None
                    } else if core.unrendered.contains(id) {
                        core.docs
                            .doc(id)
                            .and_then(|doc| conversation::read(doc).ok())
                            .map(|c| Summary::of(*id, &c, 0).to_json())
                    } else {
                        self.inbox
                            .rows
                            .with_untracked(|i| i.get(id).map(|r| r.to_json()))
                    };
                    (*id, row)
                })
                .collect();
            saves
        });
        let Some(saves) = batch else {
            return;
        };
        match self.write_now(saves) {
            Some(write) => {
                let result = write.await;
                self.written(result);
            }
            None => self.saved.set(true),
        }
        if self.read_core(|c| !c.dirty.is_empty()) == Some(true) {
            self.schedule_persist();
        }
    }
}
