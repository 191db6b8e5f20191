//! The agent's actions. Each one runs `shared`'s operation on the local
//! document first, records the action in the outbox, sends the change, and
//! writes the document, its row and the outbox to IndexedDB in one
//! transaction; only once that has committed does the screen show the
//! action done, so a reload at any moment keeps it (see `docs/app.md`).

use automerge::AutoCommit;
use baton_shared::ids::{AgentId, ChannelId, DocumentId};
use baton_shared::model::{Millis, Status};
use baton_shared::operations::OpError;
use baton_shared::protocol::{Presence, PresenceState};
use baton_shared::workspace::Workspace;
use leptos::prelude::*;

use super::AppState;
use super::outbox::{Intent, Pending};
use super::redo::Op;
use super::summary::Summary;
use crate::{perf, time};

/// Conversations changed per slice of a bulk action; between slices the page
/// gets to paint, so 1,000 rows never block it for long (an assign costs a
/// few milliseconds in wasm, most of it reading the document).
const BULK_SLICE: usize = 20;

impl AppState {
    /// Runs `op` on one conversation; answers once it is kept on this device
    /// and drawn. `None`: it was already so, nothing changed.
    async fn act(self, doc: DocumentId, op: Op) -> Result<Option<Intent>, String> {
        let workspace = self.workspace.get_untracked();
        let run = |d: &mut AutoCommit, w: &Workspace, me: &AgentId, now| op.run(d, w, me, now);
        let intent = self.apply(&workspace, doc, &op, run)?;
        if intent.is_some() {
            self.flush();
            let row = self.row_json(doc);
            self.keep(vec![(doc, row)]).await;
            self.refresh(&[doc]);
            self.draw_pending();
        }
        Ok(intent)
    }

    /// Reply (claiming an unassigned conversation) or reply and leave it
    /// unassigned. True when the reply claimed it.
    pub async fn reply(
        self,
        doc: DocumentId,
        body: String,
        leave_unassigned: bool,
    ) -> Result<bool, String> {
        let op = Op::Reply {
            body,
            leave_unassigned,
        };
        let intent = self.act(doc, op).await?;
        Ok(matches!(intent, Some(Intent::Claim(_))))
    }

    pub async fn note(self, doc: DocumentId, body: String) -> Result<(), String> {
        self.act(doc, Op::Note { body }).await.map(drop)
    }

    pub async fn resolve(self, doc: DocumentId) -> Result<(), String> {
        self.act(doc, Op::Resolve).await.map(drop)
    }

    pub async fn reopen(self, doc: DocumentId) -> Result<(), String> {
        self.act(doc, Op::Reopen).await.map(drop)
    }

    /// Assigns (or unassigns, with `None`) one conversation or many. More than
    /// one is a bulk action: one batch id, so each agent gets one
    /// notification. Returns how many changed and the problems of the rest.
    pub async fn assign(self, docs: Vec<DocumentId>, to: Option<AgentId>) -> (usize, Vec<String>) {
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
    pub async fn resolve_many(self, docs: Vec<DocumentId>) -> (usize, Vec<String>) {
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
    ) -> (usize, Vec<String>) {
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
            let mut done = Vec::with_capacity(slice.len());
            for doc in slice {
                let run =
                    |d: &mut AutoCommit, w: &Workspace, me: &AgentId, now| op.run(d, w, me, now);
                match self.apply(&workspace, *doc, op, run) {
                    Ok(Some(_)) => done.push(*doc),
                    Ok(None) => {}
                    Err(problem) => problems.push(problem),
                }
            }
            changed += done.len();
            self.flush();
            let rows = self.patched_rows(&done, &patch);
            perf::measure_since("baton:bulk-slice", "baton:bulk-slice-start");
            let saves = rows
                .iter()
                .map(|row| (row.doc, Some(row.to_json())))
                .collect();
            self.keep(saves).await;
            self.inbox.update(|inbox| {
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
    fn apply(
        &self,
        workspace: &Workspace,
        doc: DocumentId,
        op: &Op,
        run: impl FnOnce(&mut AutoCommit, &Workspace, &AgentId, Millis) -> Result<Intent, OpError>,
    ) -> Result<Option<Intent>, String> {
        let offline = !self.is_online();
        self.core
            .try_update_value(|core| {
                let core = core
                    .as_mut()
                    .ok_or_else(|| "You are signed out.".to_owned())?;
                let me = core.me.clone();
                let document = core
                    .docs
                    .doc_mut(&doc)
                    .ok_or_else(|| "This conversation is still loading.".to_owned())?;
                let before = document.get_heads();
                let intent =
                    run(document, workspace, &me, time::now()).map_err(|e| e.to_string())?;
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
            .unwrap_or_else(|| Err("You are signed out.".to_owned()))
    }

    /// The rows of `docs` with a known change applied, without reading
    /// their documents.
    fn patched_rows(&self, docs: &[DocumentId], change: impl Fn(&mut Summary)) -> Vec<Summary> {
        let first = self
            .core
            .try_update_value(|core| {
                let core = core.as_mut()?;
                let first = core.version + 1;
                core.version += docs.len() as u64;
                Some(first)
            })
            .flatten()
            .unwrap_or(0);
        self.inbox.with_untracked(|inbox| {
            docs.iter()
                .enumerate()
                .filter_map(|(n, doc)| {
                    let mut row = (**inbox.get(doc)?).clone();
                    change(&mut row);
                    row.version = first + n as u64;
                    Some(row)
                })
                .collect()
        })
    }

    /// Signs the agent up for (or off) notifications on a channel.
    pub fn set_subscription(&self, channel: ChannelId, subscribed: bool) -> Result<(), String> {
        let op = Op::Subscribe {
            channel,
            subscribed,
        };
        self.change_own_workspace(op)
    }

    /// Away (skipped by round-robin workflows) or available.
    pub fn set_away(&self, away: bool) -> Result<(), String> {
        self.change_own_workspace(Op::Away { away })
    }

    fn change_own_workspace(&self, op: Op) -> Result<(), String> {
        let run = |d: &mut AutoCommit, w: &Workspace, me: &AgentId, now| op.run(d, w, me, now);
        self.change_workspace_with(&op, run)
    }

    /// Runs an admin's change to the workspace document (settings, workflows).
    pub fn change_workspace(
        &self,
        change: impl FnOnce(&mut AutoCommit, Millis) -> Result<(), OpError>,
    ) -> Result<(), String> {
        self.change_workspace_with(&Op::Workspace, |d, _, _, now| {
            change(d, now)?;
            Ok(Intent::Other)
        })
    }

    /// Changes the workspace document: drawn at once (a setting's switch
    /// must not lag) and kept on this device right after.
    fn change_workspace_with(
        &self,
        op: &Op,
        run: impl FnOnce(&mut AutoCommit, &Workspace, &AgentId, Millis) -> Result<Intent, OpError>,
    ) -> Result<(), String> {
        let Some(doc) = self.workspace_doc() else {
            return Err("You are signed out.".to_owned());
        };
        let workspace = self.workspace.get_untracked();
        if self.apply(&workspace, doc, op, run)?.is_some() {
            self.flush();
            self.refresh(&[doc]);
            self.draw_pending();
            leptos::task::spawn_local(self.keep(vec![(doc, None)]));
        }
        Ok(())
    }

    fn workspace_doc(&self) -> Option<DocumentId> {
        self.core
            .with_value(|c| c.as_ref().map(|c| c.workspace_doc))
    }

    /// Tells the others in `doc` what this agent is doing there.
    pub fn announce(&self, doc: DocumentId, state: PresenceState) {
        if !self.is_online() {
            return;
        }
        self.core.update_value(|core| {
            if let Some(core) = core.as_mut() {
                let presence = Presence {
                    agent: core.me.clone(),
                    state,
                };
                core.docs.presence(doc, &presence);
            }
        });
        self.flush();
    }
}
