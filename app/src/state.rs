//! The state layer: one service per concern, each provided once as a Leptos
//! context and read through its `use_…()` accessor. Only this module (and
//! the modules under it) touches the socket, IndexedDB or an Automerge
//! document; components call the services' methods.
//!
//! | service | accessor | holds |
//! | --- | --- | --- |
//! | [`Session`] | [`use_session`] | who is signed in, the workspace, sign in and out, the agent's own settings and an admin's workspace changes |
//! | [`InboxState`] | [`use_inbox`] | the rows, the filter, the selection, the keyboard's row, "Not yet synced" |
//! | [`Conversations`] | [`use_conversations`] | reading a held conversation, every action on one, who else is in it |
//! | [`Sync`] | [`use_sync`] | the connection as the agent sees it, whether all is saved here |
//! | [`Notifications`] | [`use_notifications`] | the bell |
//! | [`Toasts`] | [`use_toasts`] | short messages at the bottom |
//! | [`Navigation`] | [`use_navigation`] | the route |
//! | [`Clock`] | [`use_clock`] | a clock ticking every second, for ages and fading presence |
//!
//! Behind the services sits [`client::Client`], which the components never
//! see: the documents, the socket and the database, with the work that keeps
//! them in step (`sync`, `receive`, `keep`, `actions`, `boot`, `refusal`).

mod actions;
pub mod backoff;
mod boot;
mod client;
mod clock;
mod conversations;
pub mod inbox;
mod keep;
mod navigation;
pub mod notices;
mod notifications;
pub mod outbox;
pub mod pace;
pub mod presence;
mod receive;
pub mod redo;
mod refusal;
mod session;
mod settings;
pub mod summary;
mod sync;
pub mod toasts;

#[cfg(test)]
pub mod fixtures;

use leptos::prelude::*;

pub use clock::Clock;
pub use conversations::Conversations;
pub use inbox::InboxState;
pub use navigation::{Navigation, Route};
pub use notices::Notice;
pub use notifications::Notifications;
pub use session::{Phase, Session, SignedIn};
pub use sync::{Connection, Sync};
pub use toasts::{Toast, ToastKind, Toasts};

/// Provides every service to the components below, follows the URL's hash
/// and the browser's online event, and starts the session.
pub fn provide() {
    let client = client::Client::new();
    provide_context(Session(client));
    provide_context(client.inbox);
    provide_context(Conversations(client));
    provide_context(Sync(client));
    provide_context(Notifications(client));
    provide_context(client.toasts);
    provide_context(client.nav);
    provide_context(client.clock);
    client.nav.follow_hash();
    let online = window_event_listener(leptos::ev::online, move |_| client.retry_now());
    on_cleanup(move || online.remove());
    client.clock.start();
    leptos::task::spawn_local(client.boot());
}

pub fn use_session() -> Session {
    expect_context()
}

pub fn use_inbox() -> InboxState {
    expect_context()
}

pub fn use_conversations() -> Conversations {
    expect_context()
}

pub fn use_sync() -> Sync {
    expect_context()
}

pub fn use_notifications() -> Notifications {
    expect_context()
}

pub fn use_toasts() -> Toasts {
    expect_context()
}

pub fn use_navigation() -> Navigation {
    expect_context()
}

pub fn use_clock() -> Clock {
    expect_context()
}
