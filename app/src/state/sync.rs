//! The socket's life: connect, join, catch up, send as fast as the pace
//! allows, reconnect with jittered backoff. What arrives on it is
//! `receive.rs`'s; the sync service tells the agent how it stands.

use std::time::Duration;

use baton_shared::model::Millis;
use leptos::prelude::*;

use super::backoff::reconnect_delay_ms;
use super::client::Client;
use super::pace::Pace;
use super::session::Phase;
use crate::api::{self, ApiError};
use crate::socket::{self, Handlers, Socket};
use crate::time;

/// The socket, as the agent sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Online,
    /// Offline; the next attempt is at this time.
    Offline {
        retry_at: Millis,
    },
}

/// The sync service (`use_sync()`).
#[derive(Clone, Copy)]
pub struct Sync(pub(super) Client);

impl Sync {
    /// Reactive: connecting, online, or offline until a retry.
    pub fn connection(&self) -> Connection {
        self.0.connection.get()
    }

    /// Reactive: whether every change is written in this browser.
    pub fn saved(&self) -> bool {
        self.0.saved.get()
    }

    /// Tries now instead of waiting out the backoff (the agent clicked
    /// "Retry now").
    pub fn retry_now(&self) {
        self.0.retry_now();
    }
}

impl Client {
    /// Opens the socket (once; reconnects are scheduled by `closed`).
    pub(super) fn connect(self) {
        let Some(url) = socket::sync_url() else {
            return;
        };
        let epoch = self.epoch();
        let opened = move || {
            if self.epoch() == epoch {
                self.opened();
            }
        };
        let frame = move |bytes: Vec<u8>| {
            if self.epoch() == epoch {
                self.frame(&bytes);
            }
        };
        let closed = move |code: u16, reason: String| {
            if self.epoch() == epoch {
                self.closed(code, reason);
            }
        };
        self.connection.set(Connection::Connecting);
        let handlers = Handlers {
            opened: Box::new(opened),
            frame: Box::new(frame),
            closed: Box::new(closed),
        };
        match Socket::connect(&url, handlers) {
            Ok(socket) => {
                self.with_core(|core| core.socket = Some(socket));
            }
            Err(_) => self.closed(1006, String::new()),
        }
    }

    fn opened(self) {
        self.with_core(|core| {
            // A new connection starts every sync afresh: what was queued is moot.
            core.queue.clear();
            core.pace = Pace::new(js_sys::Date::now());
            let join = core.docs.join();
            if let Some(socket) = &core.socket {
                socket.send(&join.encode());
            }
        });
    }

    fn closed(self, code: u16, reason: String) {
        let Some(attempt) = self.with_core(|core| {
            core.socket = None;
            core.attempt += 1;
            core.attempt
        }) else {
            return;
        };
        // 1008 (policy): deactivated, or refused for another reason; the API
        // tells which when the next attempt is due.
        let policy = code == 1008;
        if policy && !reason.is_empty() {
            self.toasts
                .problem(format!("The server closed the connection: {reason}"), None);
        }
        let delay = reconnect_delay_ms(attempt - 1, js_sys::Math::random());
        self.connection.set(Connection::Offline {
            retry_at: time::now() + i64::from(delay),
        });
        let epoch = self.epoch();
        let retry = move || {
            if self.epoch() != epoch {
                return;
            }
            leptos::task::spawn_local(async move {
                // A socket refused for want of a session looks like any
                // other failure; ask the API which it was.
                if (policy || attempt > 1) && api::me().await == Err(ApiError::SignedOut) {
                    self.phase.set(Phase::SignedOut {
                        problem: Some(ApiError::SignedOut.to_string()),
                    });
                    return;
                }
                if self.epoch() == epoch {
                    self.connect();
                }
            });
        };
        set_timeout(retry, Duration::from_millis(u64::from(delay)));
    }

    /// Tries now instead of waiting out the backoff (the browser says it is
    /// back online, or the agent clicked "Retry now").
    pub(super) fn retry_now(self) {
        if self.read_core(|c| c.socket.is_none()) == Some(true) {
            self.connect();
        }
    }

    /// The server took the join: sync everything held, catch up since the
    /// last sequence kept, and send the reads made offline.
    pub(super) fn joined(self) {
        let reads = self.with_core(|core| {
            core.attempt = 0;
            // This connection's catch-up lists them again.
            core.awaiting.clear();
            if core.docs.doc(&core.workspace_doc).is_none() {
                core.docs.open(core.workspace_doc);
            }
            core.docs.sync_all();
            core.docs.catch_up();
            std::mem::take(&mut core.unsent_reads)
        });
        self.connection.set(Connection::Online);
        if let Some(reads) = reads
            && !reads.is_empty()
        {
            leptos::task::spawn_local(async move {
                let _ = api::mark_read(&reads).await;
            });
        }
        self.fetch_notifications();
    }

    /// Sends what the documents have to say, as fast as the pace allows; the
    /// rest waits in the queue for a timer.
    pub(super) fn flush(&self) {
        let wait = self
            .with_core(|core| {
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
            })
            .flatten();
        if let Some(wait) = wait {
            let client = *self;
            let later = move || {
                client.with_core(|core| core.flush_scheduled = false);
                client.flush();
            };
            set_timeout(later, Duration::from_millis(u64::from(wait)));
        }
    }

    /// Whether the socket is joined, so a change goes out now.
    pub(super) fn is_online(&self) -> bool {
        self.read_core(|c| c.docs.is_joined() && c.socket.as_ref().is_some_and(|s| s.is_open()))
            == Some(true)
    }
}
