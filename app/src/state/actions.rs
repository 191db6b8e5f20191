//! The agent's actions. Each one runs `shared`'s operation on the local
//! document first, records the action in the outbox, sends the change, and
//! writes the document, its row and the outbox to IndexedDB in one
//! transaction; only once that has committed does the screen show the
//! action done, so a reload at any moment keeps it (see `docs/app.md`).

use automerge::AutoCommit;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::{Millis, Status};
use baton_shared::operations::OpError;
use baton_shared::workspace::Workspace;
use leptos::prelude::*;

use super::client::Client;
use super::outbox::{Intent, Pending};
use super::redo::Op;
use super::summary::Summary;
use crate::error::AppError;
use crate::{perf, time};

/// Conversations changed per slice of a bulk action; between slices the page
/// gets to paint, so 1,000 rows never block it for long (an assign costs a
/// few milliseconds in wasm, most of it reading the document).
const BULK_SLICE: usize = 20;

impl Client {
    /// Runs `op` on one conversation; answers once it is kept on this device
    /// and drawn. `None`: it was already so, nothing changed.
    pub(super) async fn act(self, doc: DocumentId, op: Op) -> Result<Option<Intent>, AppError> {
        let workspace = self.workspace.get_untracked();
        let run = |d: &mut AutoCommit, w: &Workspace, me: &AgentId, now| op.run(d, w, me, now);
        let intent = self.apply(&workspace, doc, &op, time::now(), run)?;
        if intent.is_some() {
            self.flush();
            let row = self.row_json(doc);
            self.keep(vec![(doc, row)]).await;
            self.refresh(&[doc]);
            self.draw_pending();
        }
        Ok(intent)
    }

    /// Assigns (or unassigns, with `None`) one conversation or many. More than
    /// one is a bulk action: one batch id, so each agent gets one
    /// notification. Returns how many changed and the problems of the rest.
    pub(super) async fn assign(
        self,
        docs: Vec<DocumentId>,
        to: Option<AgentId>,
    ) -> (usize, Vec<AppError>) {
        let batch = (docs.len() > 1).then(baton_shared::operations::new_batch_id);
        let op = Op::Assign {
            to: to.clone(),
            batch,
        };
        let patch = |row: &mut Summary| {
            row.assignee = to.clone();
            row.contested = false;
        };
        self.in_slices(&docs, &op, patch).await
    }

    /// Resolves many conversations at once (the bulk bar).
    pub(super) async fn resolve_many(self, docs: Vec<DocumentId>) -> (usize, Vec<AppError>) {
        self.in_slices(&docs, &Op::Resolve, |row| row.status = Status::Resolved)
            .await
    }

    /// Runs `op` on every document, [`BULK_SLICE`] at a time, each slice
    /// kept in one transaction before it is drawn. The rows of the documents
    /// it changed are patched with `patch`: reading every document again
    /// would double the cost of a bulk action.
    async fn in_slices(
        self,
        docs: &[DocumentId],
        op: &Op,
        patch: impl Fn(&mut Summary),
    ) -> (usize, Vec<AppError>) {
        let workspace = self.workspace.get_untracked();
        let mut changed = 0;
        let mut problems = Vec::new();
        // "baton:bulk" spans the whole action; each "baton:bulk-slice" is the
        // work between two yields (what the page waits for).
        perf::mark("baton:bulk-start");
        for (n, slice) in docs.chunks(BULK_SLICE).enumerate() {
            if n > 0 {
                gloo_timers::future::TimeoutFuture::new(0).await;
            }
            perf::mark("baton:bulk-slice-start");
            // One time for the slice, so each row moves as its change did.
            let now = time::now();
            let mut done = Vec::with_capacity(slice.len());
            for doc in slice {
                let run =
                    |d: &mut AutoCommit, w: &Workspace, me: &AgentId, now| op.run(d, w, me, now);
                match self.apply(&workspace, *doc, op, now, run) {
                    Ok(Some(_)) => done.push(*doc),
                    Ok(None) => {}
                    Err(problem) => problems.push(problem),
                }
            }
            changed += done.len();
            self.flush();
            let rows = self.patched_rows(&done, now, &patch);
            perf::measure_since("baton:bulk-slice", "baton:bulk-slice-start");
            let saves = rows
                .iter()
                .map(|row| (row.doc, Some(row.to_json())))
                .collect();
            self.keep(saves).await;
            self.inbox.rows.update(|inbox| {
                for row in rows {
                    inbox.upsert(row);
                }
            });
            self.draw_pending();
        }
        perf::measure_since("baton:bulk", "baton:bulk-start");
        (changed, problems)
    }

    /// Runs `run` (the action `op`) on `doc` and hands its change, if it
    /// made one, to the outbox and sync; nothing is drawn or saved yet.
    /// `Some(intent)` when the document changed.
    pub(super) fn apply(
        &self,
        workspace: &Workspace,
        doc: DocumentId,
        op: &Op,
        now: Millis,
        run: impl FnOnce(&mut AutoCommit, &Workspace, &AgentId, Millis) -> Result<Intent, OpError>,
    ) -> Result<Option<Intent>, AppError> {
        let offline = !self.is_online();
        self.with_core(|core| {
            let me = core.me.clone();
            let document = core.docs.doc_mut(&doc).ok_or(AppError::StillLoading)?;
            let before = document.get_heads();
            let intent = run(document, workspace, &me, now)?;
            // A local commit leaves one head: the new change. No new head, no change.
            let after = document.get_heads();
            if after == before {
                return Ok(None);
            }
            if let [hash] = after.as_slice() {
                let pending = Pending {
                    hash: *hash,
                    op: op.clone(),
                    intent: intent.clone(),
                    offline,
                };
                core.outbox.push(doc, pending);
            }
            core.docs.sync(doc);
            Ok(Some(intent))
        })
        .unwrap_or(Err(AppError::SignedOut))
    }

    /// The rows of `docs` with a known change made at `now` applied,
    /// without reading their documents.
    fn patched_rows(
        &self,
        docs: &[DocumentId],
        now: Millis,
        change: impl Fn(&mut Summary),
    ) -> Vec<Summary> {
        let first = self
            .with_core(|core| {
                let first = core.version + 1;
                core.version += docs.len() as u64;
                first
            })
            .unwrap_or(0);
        self.inbox.rows.with_untracked(|inbox| {
            docs.iter()
                .enumerate()
                .filter_map(|(n, doc)| {
                    let mut row = (**inbox.get(doc)?).clone();
                    change(&mut row);
                    row.changed_at(now);
                    row.version = first + n as u64;
                    Some(row)
                })
                .collect()
        })
    }
}
