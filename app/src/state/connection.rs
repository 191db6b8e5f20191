//! The live side of the state: the socket's life (connect, join, catch up,
//! reconnect with jittered backoff) and what arrives on it.

use std::collections::BTreeSet;
use std::time::Duration;

use baton_shared::conversation;
use baton_shared::docset::Event;
use baton_shared::ids::DocumentId;
use baton_shared::protocol::{Message, Notification};
use leptos::prelude::*;

use super::backoff::reconnect_delay_ms;
use super::outbox::describe;
use super::{AppState, Connection, Notice, Phase, ToastKind};
use crate::api::{self, ApiError};
use crate::desktop;
use crate::socket::{self, Handlers, Socket};
use crate::time;

/// Server changes wait this long to be drawn, so a burst is drawn once.
const RENDER_AFTER: Duration = Duration::from_millis(30);

impl AppState {
    /// Opens the socket (once; reconnects are scheduled by `closed`).
    pub(super) fn connect(self) {
        let Some(url) = socket::sync_url() else {
            return;
        };
        let epoch = self.epoch.get_value();
        let opened = move || {
            if self.epoch.get_value() == epoch {
                self.opened();
            }
        };
        let frame = move |bytes: Vec<u8>| {
            if self.epoch.get_value() == epoch {
                self.frame(&bytes);
            }
        };
        let closed = move |code: u16, reason: String| {
            if self.epoch.get_value() == epoch {
                self.closed(code, reason);
            }
        };
        self.connection.set(Connection::Connecting);
        match Socket::connect(
            &url,
            Handlers {
                opened: Box::new(opened),
                frame: Box::new(frame),
                closed: Box::new(closed),
            },
        ) {
            Ok(socket) => self.core.update_value(|core| {
                if let Some(core) = core.as_mut() {
                    core.socket = Some(socket);
                }
            }),
            Err(_) => self.closed(1006, String::new()),
        }
    }

    fn opened(self) {
        self.core.update_value(|core| {
            let Some(core) = core.as_mut() else { return };
            // A new connection starts every sync afresh: what was queued is moot.
            core.queue.clear();
            core.pace = super::pace::Pace::new(js_sys::Date::now());
            let join = core.docs.join();
            if let Some(socket) = &core.socket {
                socket.send(&join.encode());
            }
        });
    }

    fn closed(self, code: u16, reason: String) {
        let attempt = self.core.try_update_value(|core| {
            let core = core.as_mut()?;
            core.socket = None;
            core.attempt += 1;
            Some(core.attempt)
        });
        let Some(Some(attempt)) = attempt else { return };
        // 1008 (policy): deactivated, or refused for another reason; the API
        // tells which when the next attempt is due.
        let policy = code == 1008;
        if policy && !reason.is_empty() {
            self.toast(
                ToastKind::Problem,
                format!("The server closed the connection: {reason}"),
                None,
            );
        }
        let delay = reconnect_delay_ms(attempt - 1, js_sys::Math::random());
        self.connection.set(Connection::Offline {
            retry_at: time::now() + i64::from(delay),
        });
        let epoch = self.epoch.get_value();
        set_timeout(
            move || {
                if self.epoch.get_value() != epoch {
                    return;
                }
                leptos::task::spawn_local(async move {
                    // A socket refused for want of a session looks like any
                    // other failure; ask the API which it was.
                    if (policy || attempt > 1) && api::me().await == Err(ApiError::SignedOut) {
                        self.phase.set(Phase::SignedOut {
                            problem: Some("Your session has ended. Sign in again.".to_owned()),
                        });
                        return;
                    }
                    if self.epoch.get_value() == epoch {
                        self.connect();
                    }
                });
            },
            Duration::from_millis(u64::from(delay)),
        );
    }

    /// Tries now instead of waiting out the backoff (the browser says it is
    /// back online, or the agent clicked "Retry").
    pub fn retry_now(self) {
        let idle = self
            .core
            .with_value(|c| c.as_ref().is_some_and(|c| c.socket.is_none()));
        if idle {
            self.connect();
        }
    }

    /// One frame from the server.
    fn frame(self, bytes: &[u8]) {
        let Ok(message) = Message::decode(bytes) else {
            return;
        };
        let touched = match &message {
            Message::Sync { document_id, .. } | Message::Request { document_id, .. } => {
                Some(*document_id)
            }
            _ => None,
        };
        let events = self
            .core
            .try_update_value(|core| core.as_mut().map(|c| c.docs.receive(message)));
        let Some(Some(events)) = events else { return };
        let mut changed = Vec::new();
        for event in events {
            match event {
                Event::Joined { .. } => self.joined(),
                Event::Changed(doc) => changed.push(doc),
                Event::Unavailable(doc) => changed.push(doc),
                Event::Refused {
                    document, message, ..
                } => self.refused(document, message),
                Event::Notification(notification) => self.notified(notification),
                Event::NotificationsRead(ids) => self.notices.update(|n| n.mark_read(&ids)),
                Event::Presence { document, presence } => {
                    self.presence
                        .update(|board| board.update(document, presence, time::now()));
                }
                Event::CaughtUp { documents, .. } => {
                    self.await_documents(documents);
                    self.loaded.set(true);
                }
                Event::Error(problem) => self.toast(ToastKind::Problem, problem, None),
            }
        }
        if !changed.is_empty() {
            let schedule = self.core.try_update_value(|core| {
                let core = core.as_mut()?;
                core.dirty.extend(changed.iter().copied());
                core.unrendered.extend(changed.iter().copied());
                Some(!std::mem::replace(&mut core.render_scheduled, true))
            });
            // A catch-up brings thousands of frames: the screen is re-derived
            // once per burst, not once per frame.
            if schedule == Some(Some(true)) {
                set_timeout(move || self.render_changes(), RENDER_AFTER);
            }
            self.schedule_persist();
        }
        if let Some(doc) = touched {
            self.core.update_value(|core| {
                if let Some(core) = core.as_mut() {
                    core.awaiting.remove(&doc);
                }
            });
            // A refused document's pending actions are redone once its
            // reload is in, before anything is taken as confirmed.
            self.redo_refused(doc);
            self.confirm(doc);
        }
        self.flush();
    }

    fn render_changes(self) {
        let changed = self.core.try_update_value(|core| {
            let core = core.as_mut()?;
            core.render_scheduled = false;
            Some(std::mem::take(&mut core.unrendered))
        });
        if let Some(Some(changed)) = changed {
            let changed: Vec<DocumentId> = changed.into_iter().collect();
            self.refresh(&changed);
        }
        self.draw_confirmed();
    }

    fn joined(self) {
        let reads = self.core.try_update_value(|core| {
            let core = core.as_mut()?;
            core.attempt = 0;
            // This connection's catch-up lists them again.
            core.awaiting.clear();
            if core.docs.doc(&core.workspace_doc).is_none() {
                core.docs.open(core.workspace_doc);
            }
            core.docs.sync_all();
            core.docs.catch_up();
            Some(std::mem::take(&mut core.unsent_reads))
        });
        self.connection.set(Connection::Online);
        if let Some(Some(reads)) = reads
            && !reads.is_empty()
        {
            leptos::task::spawn_local(async move {
                let _ = api::mark_read(&reads).await;
            });
        }
        self.fetch_notifications();
    }

    /// A catch-up named these documents: the sequence it reached is kept
    /// only once each has been heard from and written (see `keep.rs`).
    fn await_documents(&self, documents: Vec<DocumentId>) {
        self.core.update_value(|core| {
            if let Some(core) = core.as_mut() {
                core.awaiting.extend(documents);
            }
        });
    }

    /// Sends what the documents have to say, as fast as the pace allows; the
    /// rest waits in the queue for a timer.
    pub(super) fn flush(&self) {
        let wait = self.core.try_update_value(|core| {
            let core = core.as_mut()?;
            let socket = core.socket.as_ref().filter(|s| s.is_open())?;
            for message in core.docs.take_outgoing() {
                core.queue.push_back(message.encode());
            }
            let now = js_sys::Date::now();
            while let Some(frame) = core.queue.front() {
                if !core.pace.take(now) {
                    break;
                }
                // A frame the socket would not take is resent by the next join's sync.
                if !socket.send(frame) {
                    core.queue.clear();
                    return None;
                }
                core.queue.pop_front();
            }
            if core.queue.is_empty() || core.flush_scheduled {
                return None;
            }
            core.flush_scheduled = true;
            Some(core.pace.wait_ms().max(20))
        });
        if let Some(Some(wait)) = wait {
            let state = *self;
            set_timeout(
                move || {
                    state.core.update_value(|core| {
                        if let Some(core) = core.as_mut() {
                            core.flush_scheduled = false;
                        }
                    });
                    state.flush();
                },
                Duration::from_millis(u64::from(wait)),
            );
        }
    }

    /// Whether the socket is joined, so a change goes out now.
    pub(super) fn is_online(&self) -> bool {
        self.core.with_value(|core| {
            core.as_ref().is_some_and(|c| {
                c.docs.is_joined() && c.socket.as_ref().is_some_and(|s| s.is_open())
            })
        })
    }

    /// Drops the local changes of `doc` the server now holds. The pending
    /// marks and the "what changed under you" report are drawn with the next
    /// burst, not per frame.
    pub(super) fn confirm(&self, doc: DocumentId) {
        let schedule = self.core.try_update_value(|core| {
            let core = core.as_mut()?;
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
        });
        if schedule == Some(Some(true)) {
            let state = *self;
            set_timeout(move || state.render_changes(), RENDER_AFTER);
        }
    }

    /// Draws the confirmations gathered since the last burst.
    fn draw_confirmed(&self) {
        let outcome = self.core.try_update_value(|core| {
            let core = core.as_mut()?;
            if !std::mem::take(&mut core.confirmed) {
                return None;
            }
            let report = if core.outbox.is_empty() {
                std::mem::take(&mut core.lost)
            } else {
                Vec::new()
            };
            Some((core.outbox.docs(), report))
        });
        if let Some(Some((pending, report))) = outcome {
            self.set_pending(pending);
            // The outbox shrank: keep IndexedDB's copy in step.
            self.schedule_persist();
            if !report.is_empty() {
                for line in self.workspace.with_untracked(|w| describe(&report, w)) {
                    self.toast(ToastKind::Notice, line, None);
                }
            }
        }
    }

    pub(super) fn set_pending(&self, pending: BTreeSet<DocumentId>) {
        if self.pending.with_untracked(|p| *p != pending) {
            self.pending.set(pending);
        }
    }

    fn notified(self, notification: Notification) {
        let notice = Notice {
            id: notification.id.clone(),
            doc: notification.document_id,
            text: notification.text.clone(),
            at: notification.at,
            read: notification.read,
        };
        let text = notice.text.clone();
        let doc = notice.doc;
        // A bulk or workflow batch grows after its first push: fetch the
        // stored notification again once the batch has landed.
        if notification.batch.is_some() {
            set_timeout(
                move || self.fetch_notifications(),
                Duration::from_millis(1500),
            );
        }
        let fresh = self.notices.try_update(|n| n.add(notice)).unwrap_or(false);
        self.schedule_persist();
        if fresh {
            self.toast(ToastKind::Notice, text.clone(), Some(doc));
            desktop::notify_if_hidden(&text, doc, self);
        }
    }

    /// Loads the stored notifications (at boot and after every join, since
    /// pushes sent while offline were missed).
    pub(super) fn fetch_notifications(self) {
        leptos::task::spawn_local(async move {
            if let Ok(list) = api::notifications().await {
                self.notices.update(|notices| {
                    for stored in list.notifications {
                        notices.add(Notice {
                            id: stored.id,
                            doc: stored.document,
                            text: stored.text,
                            at: stored.at,
                            read: stored.read,
                        });
                    }
                });
                self.schedule_persist();
            }
        });
    }

    /// Marks notifications read here, on the server, and in the agent's other tabs.
    pub fn mark_notices_read(self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        self.notices.update(|n| n.mark_read(&ids));
        self.schedule_persist();
        let online = self.is_online();
        if online {
            self.core.update_value(|core| {
                if let Some(core) = core.as_mut() {
                    core.docs.notifications_read(ids.clone());
                }
            });
            self.flush();
        } else {
            self.core.update_value(|core| {
                if let Some(core) = core.as_mut() {
                    core.unsent_reads.extend(ids);
                }
            });
        }
    }
}
