//! What arrives on the socket: frames become document changes, drawn once
//! per burst; confirmations clear "Not yet synced" and, once the outbox
//! drains, tell the agent which offline changes lost; refusals, the bell
//! and presence go to their own services.

use std::collections::BTreeSet;
use std::time::Duration;

use baton_shared::conversation;
use baton_shared::docset::Event;
use baton_shared::ids::DocumentId;
use baton_shared::protocol::Message;
use leptos::prelude::*;

use super::client::Client;
use super::keep::Saved;
use super::outbox::describe;
use super::summary::Summary;
use super::toasts::ToastKind;
use crate::{perf, time};

/// Server changes wait this long to be drawn, so a burst is drawn once.
const RENDER_AFTER: Duration = Duration::from_millis(30);

impl Client {
    /// One frame from the server.
    pub(super) fn frame(self, bytes: &[u8]) {
        let Ok(message) = Message::decode(bytes) else {
            return;
        };
        let touched = match &message {
            Message::Sync { document_id, .. } | Message::Request { document_id, .. } => {
                Some(*document_id)
            }
            _ => None,
        };
        // Documents that come whole are timed, for the first sign-in's profile.
        let whole = matches!(message, Message::BatonDocuments { .. });
        if whole {
            perf::mark("baton:fetch-load-start");
        }
        let Some(events) = self.with_core(|c| c.docs.receive(message)) else {
            return;
        };
        if whole {
            perf::measure_since("baton:fetch-load", "baton:fetch-load-start");
        }
        let mut changed = Vec::new();
        let mut fetched = Vec::new();
        for event in events {
            match event {
                Event::Joined { .. } => self.joined(),
                Event::Changed(doc) | Event::Unavailable(doc) => changed.push(doc),
                Event::Fetched { document, bytes } => fetched.push((document, bytes)),
                Event::Refused {
                    document, message, ..
                } => self.refused(document, message),
                Event::Notification(notification) => self.notified(notification),
                Event::NotificationsRead(ids) => self.bell.update(|n| n.mark_read(&ids)),
                Event::Presence { document, presence } => {
                    self.presence
                        .update(|board| board.update(document, presence, time::now()));
                }
                Event::CaughtUp { documents, .. } => {
                    // The sequence it reached is kept only once each has
                    // been heard from and written (see `keep.rs`).
                    self.with_core(|core| core.awaiting.extend(documents));
                    self.inbox.loaded.set(true);
                }
                Event::Error(problem) => self.toasts.problem(problem, None),
            }
        }
        if !changed.is_empty() {
            let schedule = self.with_core(|core| {
                core.dirty.extend(changed.iter().copied());
                core.unrendered.extend(changed.iter().copied());
                !std::mem::replace(&mut core.render_scheduled, true)
            });
            // A catch-up brings thousands of frames: the screen is re-derived
            // once per burst, not once per frame.
            if schedule == Some(true) {
                set_timeout(move || self.render_changes(), RENDER_AFTER);
            }
            self.schedule_persist();
        }
        if !fetched.is_empty() {
            self.hold_fetched(fetched);
        }
        if let Some(doc) = touched {
            self.with_core(|core| core.awaiting.remove(&doc));
            // A refused document's pending actions are redone once its
            // reload is in, before anything is taken as confirmed.
            self.redo_refused(doc);
            self.confirm(doc);
        }
        self.flush();
    }

    /// Documents that came whole: each row read once, kept with the bytes
    /// as they came (nothing to save again) in one transaction per frame,
    /// and drawn with the next burst, so a catch-up of many frames
    /// re-derives the list once per burst rather than once per frame.
    fn hold_fetched(self, fetched: Vec<(DocumentId, Vec<u8>)>) {
        perf::mark("baton:fetch-rows-start");
        let held = self.with_core(|core| {
            let mut saved = Vec::with_capacity(fetched.len());
            let mut other = Vec::new();
            for (doc, bytes) in fetched {
                core.awaiting.remove(&doc);
                let Some(held) = core.docs.doc_mut(&doc) else {
                    continue;
                };
                let heads = held.get_heads();
                let row = match conversation::read(&*held) {
                    Ok(conversation) if doc != core.workspace_doc => {
                        core.version += 1;
                        let row = Summary::of(doc, &conversation, core.version);
                        let json = row.to_json();
                        core.fetched_rows.push(row);
                        Some(json)
                    }
                    // The workspace, or a document that is no conversation:
                    // drawn the usual way.
                    _ => {
                        other.push(doc);
                        None
                    }
                };
                saved.push(Saved::taken(doc, heads, bytes, row));
            }
            core.unrendered.extend(other);
            let schedule = !std::mem::replace(&mut core.render_scheduled, true);
            (saved, schedule)
        });
        perf::measure_since("baton:fetch-rows", "baton:fetch-rows-start");
        let Some((saved, schedule)) = held else {
            return;
        };
        if schedule {
            set_timeout(move || self.render_changes(), RENDER_AFTER);
        }
        perf::mark("baton:fetch-issue-start");
        let kept = self.keep_saved(saved);
        perf::measure_since("baton:fetch-issue", "baton:fetch-issue-start");
        leptos::task::spawn_local(kept);
    }

    fn render_changes(self) {
        let changed = self.with_core(|core| {
            core.render_scheduled = false;
            let rows = std::mem::take(&mut core.fetched_rows);
            (std::mem::take(&mut core.unrendered), rows)
        });
        if let Some((changed, rows)) = changed {
            if !rows.is_empty() {
                self.inbox.rows.update(|inbox| {
                    for row in rows {
                        inbox.upsert_unless_newer(row);
                    }
                });
            }
            let changed: Vec<DocumentId> = changed.into_iter().collect();
            self.refresh(&changed);
        }
        self.draw_confirmed();
    }

    /// Drops the local changes of `doc` the server now holds. The pending
    /// marks and the "what changed under you" report are drawn with the next
    /// burst, not per frame.
    fn confirm(&self, doc: DocumentId) {
        let schedule = self
            .with_core(|core| {
                // A refused document's entries wait for its redo, not the server.
                if !core.outbox.has(&doc) || core.refusals.contains_key(&doc) {
                    return None;
                }
                let effective = core
                    .docs
                    .doc(&doc)
                    .and_then(|d| conversation::read(d).ok())
                    .and_then(|c| c.effective_assignment().cloned());
                let docs = &mut core.docs;
                let lost = core
                    .outbox
                    .confirm(doc, effective.as_ref(), |hash| docs.server_has(&doc, hash));
                core.lost.extend(lost);
                core.confirmed = true;
                Some(!std::mem::replace(&mut core.render_scheduled, true))
            })
            .flatten();
        if schedule == Some(true) {
            let client = *self;
            set_timeout(move || client.render_changes(), RENDER_AFTER);
        }
    }

    /// Draws the confirmations gathered since the last burst.
    fn draw_confirmed(&self) {
        let outcome = self
            .with_core(|core| {
                if !std::mem::take(&mut core.confirmed) {
                    return None;
                }
                let report = if core.outbox.is_empty() {
                    std::mem::take(&mut core.lost)
                } else {
                    Vec::new()
                };
                Some((core.outbox.docs(), report))
            })
            .flatten();
        if let Some((pending, report)) = outcome {
            self.set_pending(pending);
            // The outbox shrank: keep IndexedDB's copy in step.
            self.schedule_persist();
            for line in self.workspace.with_untracked(|w| describe(&report, w)) {
                self.toasts.show(ToastKind::Notice, line, None);
            }
        }
    }

    pub(super) fn set_pending(&self, pending: BTreeSet<DocumentId>) {
        self.inbox.set_pending(pending);
    }
}
