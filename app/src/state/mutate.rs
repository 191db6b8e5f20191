//! The agent's actions. Each one runs `shared`'s operation on the local
//! document first (so the screen changes at once, online or not), records
//! what it meant in the outbox, and hands the change to sync.

use automerge::AutoCommit;
use baton_shared::ids::{AgentId, ChannelId, DocumentId};
use baton_shared::model::{By, Millis, Status};
use baton_shared::operations::{self, OpError, ReplyMode};
use baton_shared::protocol::{Presence, PresenceState};
use baton_shared::workspace::{self as ws, Workspace};
use leptos::prelude::*;

use super::AppState;
use super::outbox::Intent;
use super::summary::Summary;
use crate::{perf, time};

/// Conversations changed per slice of a bulk action; between slices the page
/// gets to paint, so 1,000 rows never block it for long (an assign costs a
/// few milliseconds in wasm, most of it reading the document).
const BULK_SLICE: usize = 20;

impl AppState {
    /// Runs `op` on `doc` and sends the change. Returns the op's own answer.
    fn mutate<T>(
        &self,
        doc: DocumentId,
        op: impl FnOnce(&mut AutoCommit, &Workspace, &AgentId, Millis) -> Result<(T, Intent), OpError>,
    ) -> Result<T, String> {
        let workspace = self.workspace.get_untracked();
        let answer = self.mutate_quietly(&workspace, doc, op)?;
        let pending = self
            .core
            .with_value(|c| c.as_ref().map(|c| c.outbox.docs()).unwrap_or_default());
        self.set_pending(pending);
        self.refresh(&[doc]);
        self.flush();
        self.schedule_persist();
        Ok(answer)
    }

    /// Reply (claiming an unassigned conversation) or reply and leave it unassigned.
    pub fn reply(&self, doc: DocumentId, body: &str, mode: ReplyMode) -> Result<bool, String> {
        self.mutate(doc, |d, w, me, now| {
            let outcome = operations::reply(d, w, me, body, mode, now)?;
            let intent = if outcome.claimed {
                Intent::Claim(me.clone())
            } else {
                Intent::Other
            };
            Ok((outcome.claimed, intent))
        })
    }

    pub fn note(&self, doc: DocumentId, body: &str) -> Result<(), String> {
        self.mutate(doc, |d, w, me, now| {
            operations::note(d, w, me, body, now)?;
            Ok(((), Intent::Other))
        })
    }

    pub fn resolve(&self, doc: DocumentId) -> Result<(), String> {
        self.mutate(doc, |d, _, me, now| {
            operations::resolve(d, &By::Agent(me.clone()), now)?;
            Ok(((), Intent::Other))
        })
    }

    pub fn reopen(&self, doc: DocumentId) -> Result<(), String> {
        self.mutate(doc, |d, _, me, now| {
            operations::reopen(d, &By::Agent(me.clone()), now)?;
            Ok(((), Intent::Other))
        })
    }

    /// Assigns (or unassigns, with `None`) one conversation or many. More than
    /// one is a bulk action: one batch id, so each agent gets one
    /// notification. Returns how many changed and the problems of the rest.
    pub async fn assign(self, docs: Vec<DocumentId>, to: Option<AgentId>) -> (usize, Vec<String>) {
        let batch = (docs.len() > 1).then(operations::new_batch_id);
        let op = |d: &mut AutoCommit, w: &Workspace, me: &AgentId, now: Millis| {
            let by = By::Agent(me.clone());
            let outcome = operations::assign(d, w, &by, to.as_ref(), batch.as_ref(), now)?;
            Ok((outcome.changed, Intent::Assign(to.clone())))
        };
        let patch = |row: &mut Summary| {
            row.assignee = to.clone();
            row.contested = false;
        };
        self.in_slices(&docs, op, patch).await
    }

    /// Resolves many conversations at once (the bulk bar).
    pub async fn resolve_many(self, docs: Vec<DocumentId>) -> (usize, Vec<String>) {
        let op = |d: &mut AutoCommit, _: &Workspace, me: &AgentId, now: Millis| {
            operations::resolve(d, &By::Agent(me.clone()), now)?;
            Ok((true, Intent::Other))
        };
        self.in_slices(&docs, op, |row| row.status = Status::Resolved)
            .await
    }

    /// Runs `op` on every document, [`BULK_SLICE`] at a time with a yield to
    /// the browser between slices. The rows of the documents `op` changed
    /// (it answers `true`) are patched with `patch`: reading every document
    /// again would double the cost of a bulk action.
    async fn in_slices(
        self,
        docs: &[DocumentId],
        op: impl Fn(&mut AutoCommit, &Workspace, &AgentId, Millis) -> Result<(bool, Intent), OpError>,
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
                match self.mutate_quietly(&workspace, *doc, &op) {
                    Ok(true) => done.push(*doc),
                    Ok(false) => {}
                    Err(problem) => problems.push(problem),
                }
            }
            changed += done.len();
            self.patch_rows(&done, &patch);
            let pending = self
                .core
                .with_value(|c| c.as_ref().map(|c| c.outbox.docs()).unwrap_or_default());
            self.set_pending(pending);
            self.flush();
            self.schedule_persist();
            perf::measure_since("baton:bulk-slice", "baton:bulk-slice-start");
        }
        perf::measure_since("baton:bulk", "baton:bulk-start");
        (changed, problems)
    }

    /// Runs `op` and hands its change (if it made one) to the outbox and
    /// sync, without drawing: `mutate` draws one change, bulk slices draw once.
    fn mutate_quietly<T>(
        &self,
        workspace: &Workspace,
        doc: DocumentId,
        op: impl FnOnce(&mut AutoCommit, &Workspace, &AgentId, Millis) -> Result<(T, Intent), OpError>,
    ) -> Result<T, String> {
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
                let (answer, intent) =
                    op(document, workspace, &me, time::now()).map_err(|e| e.to_string())?;
                // A local commit leaves one head: the new change. No new head, no change.
                let after = document.get_heads();
                if after != before {
                    if let [hash] = after.as_slice() {
                        core.outbox.push(doc, *hash, intent, offline);
                    }
                    core.dirty.insert(doc);
                    core.docs.sync(doc);
                }
                Ok(answer)
            })
            .unwrap_or_else(|| Err("You are signed out.".to_owned()))
    }

    /// Applies a known change to rows without reading their documents.
    fn patch_rows(&self, docs: &[DocumentId], change: impl Fn(&mut Summary)) {
        if docs.is_empty() {
            return;
        }
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
        self.inbox.update(|inbox| {
            for (n, doc) in docs.iter().enumerate() {
                if let Some(row) = inbox.get(doc) {
                    let mut row = (**row).clone();
                    change(&mut row);
                    row.version = first + n as u64;
                    inbox.upsert(row);
                }
            }
        });
    }

    /// Signs the agent up for (or off) notifications on a channel.
    pub fn set_subscription(&self, channel: ChannelId, subscribed: bool) -> Result<(), String> {
        let Some(doc) = self.workspace_doc() else {
            return Err("You are signed out.".to_owned());
        };
        self.mutate(doc, |d, _, me, now| {
            ws::set_subscription(d, me, &channel, subscribed, now)?;
            Ok(((), Intent::Other))
        })
    }

    /// Away (skipped by round-robin workflows) or available.
    pub fn set_away(&self, away: bool) -> Result<(), String> {
        let Some(doc) = self.workspace_doc() else {
            return Err("You are signed out.".to_owned());
        };
        self.mutate(doc, |d, _, me, now| {
            ws::set_away(d, me, away, now)?;
            Ok(((), Intent::Other))
        })
    }

    /// Runs an admin's change to the workspace document (settings, workflows).
    pub fn change_workspace(
        &self,
        change: impl FnOnce(&mut AutoCommit, Millis) -> Result<(), OpError>,
    ) -> Result<(), String> {
        let Some(doc) = self.workspace_doc() else {
            return Err("You are signed out.".to_owned());
        };
        self.mutate(doc, |d, _, _, now| {
            change(d, now)?;
            Ok(((), Intent::Other))
        })
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
