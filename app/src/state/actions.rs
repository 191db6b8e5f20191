//! The agent's actions. Each one runs `shared`'s operation on the local
//! document first, records the action in the outbox, sends the change, and
//! writes the document, its row and the outbox to IndexedDB in one
//! transaction; only once that has committed does the screen show the
//! action done, so a reload at any moment keeps it (see `docs/app.md`).

use std::collections::HashMap;

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

/// How long a bulk action works before it lets the page breathe: under the
/// 50 ms a browser counts as a long task, so the page stays responsive
/// however many conversations are selected.
const BULK_SLICE_MS: Millis = 40;

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

    /// Runs `op` on every document as one motion: the changes are made in
    /// slices of at most [`BULK_SLICE_MS`] (the page may paint between them,
    /// nothing is drawn yet). Each slice is sent and its IndexedDB
    /// transaction issued as it ends, so the server works on it while the
    /// next is made and no task holds the writes of all; once every slice
    /// is kept, every row is drawn at once. The rows of the documents it
    /// changed are patched with `patch`: reading every document again would
    /// double the cost of a bulk action.
    async fn in_slices(
        self,
        docs: &[DocumentId],
        op: &Op,
        patch: impl Fn(&mut Summary),
    ) -> (usize, Vec<AppError>) {
        let workspace = self.workspace.get_untracked();
        let mut changed = 0;
        let mut rows = Vec::with_capacity(docs.len());
        let mut writes = Vec::new();
        let mut problems = Vec::new();
        // "baton:bulk" spans the whole action; each "baton:bulk-slice" is the
        // work between two yields (what the page waits for).
        perf::mark("baton:bulk-start");
        // One time for the whole action, so each row moves as its change did.
        let now = time::now();
        let mut rest = docs;
        while !rest.is_empty() {
            if rest.len() < docs.len() {
                gloo_timers::future::TimeoutFuture::new(0).await;
            }
            perf::mark("baton:bulk-slice-start");
            let began = time::now();
            let mut done = Vec::new();
            // Each document's bytes are taken in its slice.
            let mut saved = Vec::new();
            while let Some((doc, more)) = rest.split_first() {
                rest = more;
                let run =
                    |d: &mut AutoCommit, w: &Workspace, me: &AgentId, now| op.run(d, w, me, now);
                match self.apply(&workspace, *doc, op, now, run) {
                    Ok(Some(_)) => {
                        done.push(*doc);
                        saved.extend(self.snapshot(*doc, None));
                    }
                    Ok(None) => {}
                    Err(problem) => problems.push(problem),
                }
                if time::now() - began >= BULK_SLICE_MS {
                    break;
                }
            }
            perf::measure_since("baton:bulk-apply", "baton:bulk-slice-start");
            perf::mark("baton:bulk-send-start");
            self.flush();
            perf::measure_since("baton:bulk-send", "baton:bulk-send-start");
            perf::mark("baton:bulk-rows-start");
            let slice_rows = self.patched_rows(&done, now, &patch);
            let mut json: HashMap<DocumentId, String> = slice_rows
                .iter()
                .map(|row| (row.doc, row.to_json()))
                .collect();
            for entry in &mut saved {
                entry.row = json.remove(&entry.doc);
            }
            perf::measure_since("baton:bulk-rows", "baton:bulk-rows-start");
            perf::mark("baton:bulk-issue-start");
            writes.push(self.keep_saved(saved));
            perf::measure_since("baton:bulk-issue", "baton:bulk-issue-start");
            perf::measure_since("baton:bulk-slice", "baton:bulk-slice-start");
            changed += done.len();
            rows.extend(slice_rows);
        }
        perf::mark("baton:bulk-keep-start");
        for write in writes {
            write.await;
        }
        perf::measure_since("baton:bulk-keep", "baton:bulk-keep-start");
        perf::mark("baton:bulk-draw-start");
        self.inbox.rows.update(|inbox| {
            for row in rows {
                inbox.upsert(row);
            }
        });
        self.draw_pending();
        perf::measure_since("baton:bulk-draw", "baton:bulk-draw-start");
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
