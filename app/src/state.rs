//! The one owner of the agent's documents. Components read signals derived
//! from them and call the methods here; only this module (and the modules
//! under it) touches the socket, IndexedDB or an `AutoCommit`.

pub mod backoff;
mod boot;
mod connection;
pub mod inbox;
mod keep;
mod mutate;
pub mod notices;
pub mod outbox;
pub mod pace;
pub mod presence;
pub mod redo;
mod refusal;
pub mod summary;

#[cfg(test)]
pub mod fixtures;

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use baton_shared::conversation;
use baton_shared::docset::DocSet;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::{Conversation, Millis};
use baton_shared::workspace::{self, Workspace};
use leptos::prelude::*;

use crate::api::{self, ApiError, Me};
use crate::selection::Selection;
use crate::socket::Socket;
use crate::storage::{self, Db};
use crate::time;
use inbox::{Filter, Inbox};
pub use notices::{Notice, Notices};
use outbox::{Outbox, Overridden};
use presence::PresenceBoard;
use summary::Summary;

const CACHED_ME: &str = "baton.me";

/// Where the app is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Booting,
    SignedOut { problem: Option<String> },
    Ready(Session),
}

/// The signed-in agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub me: AgentId,
    pub name: String,
    pub email: String,
    pub workspace_doc: DocumentId,
}

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

/// The screen: hash routes (`#/c/<document>`, `#/settings`) survive reloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Inbox,
    Conversation(DocumentId),
    Settings,
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#');
        if let Some(id) = path.strip_prefix("/c/")
            && let Ok(doc) = id.parse()
        {
            return Route::Conversation(doc);
        }
        if path == "/settings" {
            Route::Settings
        } else {
            Route::Inbox
        }
    }

    pub fn hash(&self) -> String {
        match self {
            Route::Inbox => "#/".to_owned(),
            Route::Conversation(doc) => format!("#/c/{doc}"),
            Route::Settings => "#/settings".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Notice,
    Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub kind: ToastKind,
    pub text: String,
    pub doc: Option<DocumentId>,
}

/// The non-reactive half: documents, socket, database.
pub(crate) struct Core {
    docs: DocSet,
    me: AgentId,
    workspace_doc: DocumentId,
    socket: Option<Socket>,
    outbox: Outbox,
    dirty: BTreeSet<DocumentId>,
    db: Option<Rc<Db>>,
    db_name: String,
    /// Reconnect attempts since the last successful join.
    attempt: u32,
    persist_scheduled: bool,
    /// IndexedDB writes issued and not yet committed.
    writing: u32,
    /// Documents the last catch-up named that have not synced yet.
    awaiting: BTreeSet<DocumentId>,
    /// The catch-up sequence IndexedDB holds.
    written_seq: u64,
    /// Documents whose change the server refused, with its reason: reloaded
    /// from the server, then the agent's other pending actions are redone.
    refusals: BTreeMap<DocumentId, String>,
    /// Encoded frames waiting for the pace to allow them.
    queue: std::collections::VecDeque<Vec<u8>>,
    pace: pace::Pace,
    flush_scheduled: bool,
    /// Documents changed by the server and not yet re-derived for the screen.
    unrendered: BTreeSet<DocumentId>,
    render_scheduled: bool,
    /// The server confirmed changes since the pending set was last drawn.
    confirmed: bool,
    /// Offline changes that lost, told to the agent once the outbox drains.
    lost: Vec<Overridden>,
    /// Notification reads made while offline, sent after the next join.
    unsent_reads: Vec<String>,
    version: u64,
}

/// Everything the views read, plus the core behind it. `Copy`, so any
/// closure can hold it.
#[derive(Clone, Copy)]
pub struct AppState {
    pub phase: RwSignal<Phase>,
    pub workspace: RwSignal<Workspace>,
    pub inbox: RwSignal<Inbox>,
    /// Conversations with a local change the server has not confirmed yet
    /// (apart from the rows, so confirmations do not re-derive the list).
    pub pending: RwSignal<BTreeSet<DocumentId>>,
    pub filter: RwSignal<Filter>,
    pub selection: RwSignal<Selection<DocumentId>>,
    /// The row the keyboard is on.
    pub cursor: RwSignal<Option<DocumentId>>,
    pub connection: RwSignal<Connection>,
    /// Whether the first catch-up (or a load from this browser) has happened.
    pub loaded: RwSignal<bool>,
    pub notices: RwSignal<Notices>,
    pub presence: RwSignal<PresenceBoard>,
    pub toasts: RwSignal<Vec<Toast>>,
    pub route: RwSignal<Route>,
    /// Whether every change is saved in this browser (tests wait on it
    /// before cutting the network; the pill shows it as a title).
    pub saved: RwSignal<bool>,
    /// Ticks every few seconds, for ages and fading presence.
    pub clock: RwSignal<Millis>,
    core: StoredValue<Option<Core>, LocalStorage>,
    next_toast: StoredValue<u64>,
    epoch: StoredValue<u64>,
}

impl AppState {
    pub fn new() -> AppState {
        AppState {
            phase: RwSignal::new(Phase::Booting),
            workspace: RwSignal::new(Workspace::default()),
            inbox: RwSignal::new(Inbox::default()),
            pending: RwSignal::new(BTreeSet::new()),
            filter: RwSignal::new(Filter::default()),
            selection: RwSignal::new(Selection::default()),
            cursor: RwSignal::new(None),
            connection: RwSignal::new(Connection::Connecting),
            loaded: RwSignal::new(false),
            notices: RwSignal::new(Notices::default()),
            presence: RwSignal::new(PresenceBoard::default()),
            toasts: RwSignal::new(Vec::new()),
            route: RwSignal::new(Route::Inbox),
            saved: RwSignal::new(true),
            clock: RwSignal::new(time::now()),
            core: StoredValue::new_local(None),
            next_toast: StoredValue::new(0),
            epoch: StoredValue::new(0),
        }
    }

    /// The signed-in agent's id, if any.
    pub fn me(&self) -> Option<AgentId> {
        match self.phase.get_untracked() {
            Phase::Ready(session) => Some(session.me),
            _ => None,
        }
    }

    /// Reactive: whether the signed-in agent is an admin (per the workspace).
    pub fn is_admin(&self) -> bool {
        let Phase::Ready(session) = self.phase.get() else {
            return false;
        };
        self.workspace.with(|w| w.is_admin(&session.me))
    }

    /// A display name for an agent id.
    pub fn agent_name(&self, id: &AgentId) -> String {
        self.workspace.with_untracked(|w| {
            w.agent(id)
                .map_or_else(|| "Former agent".to_owned(), |a| a.name.clone())
        })
    }

    /// Reads a held conversation (the views call this inside a closure that
    /// tracks the conversation's row, so it re-reads on every change).
    pub fn conversation(&self, doc: &DocumentId) -> Option<Conversation> {
        self.core.with_value(|core| {
            let core = core.as_ref()?;
            conversation::read(core.docs.doc(doc)?).ok()
        })
    }

    pub fn go(&self, route: Route) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_hash(&route.hash());
        }
        self.route.set(route);
    }

    pub fn toast(&self, kind: ToastKind, text: impl Into<String>, doc: Option<DocumentId>) {
        let id = self.next_toast.get_value() + 1;
        self.next_toast.set_value(id);
        self.toasts.update(|toasts| {
            toasts.push(Toast {
                id,
                kind,
                text: text.into(),
                doc,
            });
            // The view shows the newest few; past these, the oldest go.
            let excess = toasts.len().saturating_sub(20);
            toasts.drain(..excess);
        });
        let toasts = self.toasts;
        set_timeout(
            move || toasts.update(|t| t.retain(|toast| toast.id != id)),
            std::time::Duration::from_secs(if kind == ToastKind::Problem { 10 } else { 6 }),
        );
    }

    pub fn dismiss_toast(&self, id: u64) {
        self.toasts.update(|t| t.retain(|toast| toast.id != id));
    }

    /// Starts the app: the session from the server, or (offline) the one this
    /// browser remembers.
    pub async fn boot(self) {
        match api::me().await {
            Ok(me) => {
                if let Ok(json) = serde_json::to_string(&me) {
                    storage::local::set(CACHED_ME, &json);
                }
                self.start(me).await;
            }
            Err(ApiError::SignedOut) => {
                storage::local::remove(CACHED_ME);
                self.phase.set(Phase::SignedOut { problem: None });
            }
            Err(problem) => {
                let cached = storage::local::get(CACHED_ME)
                    .and_then(|json| serde_json::from_str::<Me>(&json).ok());
                match cached {
                    Some(me) => self.start(me).await,
                    None => self.phase.set(Phase::SignedOut {
                        problem: Some(problem.to_string()),
                    }),
                }
            }
        }
    }

    pub async fn login(self, email: String, password: String) -> Result<(), String> {
        api::login(email.trim(), &password)
            .await
            .map_err(|e| match e {
                ApiError::SignedOut => "That email and password do not match.".to_owned(),
                other => other.to_string(),
            })?;
        self.boot().await;
        Ok(())
    }

    pub async fn logout(self) {
        let _ = api::logout().await;
        let db_name = self
            .core
            .with_value(|c| c.as_ref().map(|c| c.db_name.clone()));
        self.epoch.update_value(|e| *e += 1);
        self.core.set_value(None);
        if let Some(name) = db_name {
            storage::forget(&name);
        }
        storage::local::remove(CACHED_ME);
        self.workspace.set(Workspace::default());
        self.inbox.set(Inbox::default());
        self.selection.set(Selection::default());
        self.notices.set(Notices::default());
        self.loaded.set(false);
        self.phase.set(Phase::SignedOut { problem: None });
        self.go(Route::Inbox);
    }

    /// Re-derives the workspace and the rows of `changed` documents.
    fn refresh(&self, changed: &[DocumentId]) {
        let mut rows = Vec::new();
        let mut gone = Vec::new();
        let mut workspace = None;
        self.core.update_value(|core| {
            let Some(core) = core.as_mut() else { return };
            for id in changed {
                let Some(doc) = core.docs.doc(id) else {
                    gone.push(*id);
                    continue;
                };
                if *id == core.workspace_doc {
                    workspace = workspace::read(doc).ok();
                } else if let Ok(conversation) = conversation::read(doc) {
                    core.version += 1;
                    rows.push(Summary::of(*id, &conversation, core.version));
                }
            }
        });
        if let Some(workspace) = workspace {
            self.workspace.set(workspace);
        }
        if !rows.is_empty() || !gone.is_empty() {
            self.inbox.update(|inbox| {
                for row in rows {
                    inbox.upsert(row);
                }
                for id in &gone {
                    inbox.remove(id);
                }
            });
        }
    }

    /// The agent opened a conversation: mark it seen.
    pub fn mark_seen(&self, doc: DocumentId) {
        let at = self
            .inbox
            .with_untracked(|i| i.get(&doc).map(|r| r.last_at));
        if let Some(at) = at
            && self
                .inbox
                .with_untracked(|i| i.get(&doc).is_some_and(|r| i.is_unread(r)))
        {
            self.inbox.update(|i| i.mark_seen(doc, at));
            self.schedule_persist();
        }
    }
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new()
    }
}
