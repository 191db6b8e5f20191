//! The state layer's own handle: every service's signals, plus the
//! documents, the socket and the database behind them (`Core`). The
//! services hand it to no component; its work is split by concern across
//! `sync`, `receive`, `keep`, `actions`, `settings`, `boot` and `refusal`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use baton_shared::conversation;
use baton_shared::docset::DocSet;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::Conversation;
use baton_shared::workspace::{self, Workspace};
use leptos::prelude::*;

use super::clock::Clock;
use super::inbox::InboxState;
use super::navigation::Navigation;
use super::notices::Notices;
use super::outbox::{Outbox, Overridden};
use super::pace::Pace;
use super::presence::PresenceBoard;
use super::session::Phase;
use super::summary::Summary;
use super::sync::Connection;
use super::toasts::Toasts;
use crate::socket::Socket;
use crate::storage::Db;

/// The non-reactive half: documents, socket, database.
pub(super) struct Core {
    pub docs: DocSet,
    pub me: AgentId,
    pub workspace_doc: DocumentId,
    pub socket: Option<Socket>,
    pub outbox: Outbox,
    /// Documents changed since they were last written to IndexedDB.
    pub dirty: BTreeSet<DocumentId>,
    pub db: Option<Rc<Db>>,
    pub db_name: String,
    /// Reconnect attempts since the last successful join.
    pub attempt: u32,
    pub persist_scheduled: bool,
    /// IndexedDB writes issued and not yet committed.
    pub writing: u32,
    /// Documents the last catch-up named that have not synced yet.
    pub awaiting: BTreeSet<DocumentId>,
    /// The catch-up sequence IndexedDB holds.
    pub written_seq: u64,
    /// Documents whose change the server refused, with its reason: reloaded
    /// from the server, then the agent's other pending actions are redone.
    pub refusals: BTreeMap<DocumentId, String>,
    /// Encoded frames waiting for the pace to allow them.
    pub queue: VecDeque<Vec<u8>>,
    pub pace: Pace,
    pub flush_scheduled: bool,
    /// Documents changed by the server and not yet re-derived for the screen.
    pub unrendered: BTreeSet<DocumentId>,
    /// Rows read from documents that came whole, drawn with the next burst.
    pub fetched_rows: Vec<Summary>,
    pub render_scheduled: bool,
    /// The server confirmed changes since the pending set was last drawn.
    pub confirmed: bool,
    /// Offline changes that lost, told to the agent once the outbox drains.
    pub lost: Vec<Overridden>,
    /// Notification reads made while offline, sent after the next join.
    pub unsent_reads: Vec<String>,
    /// Bumped for every row drawn, so views keyed on it redraw.
    pub version: u64,
}

impl Core {
    pub fn new(docs: DocSet, me: AgentId, workspace_doc: DocumentId) -> Core {
        Core {
            docs,
            me,
            workspace_doc,
            socket: None,
            outbox: Outbox::default(),
            dirty: BTreeSet::new(),
            db: None,
            db_name: String::new(),
            attempt: 0,
            persist_scheduled: false,
            writing: 0,
            awaiting: BTreeSet::new(),
            written_seq: 0,
            refusals: BTreeMap::new(),
            queue: VecDeque::new(),
            pace: Pace::new(js_sys::Date::now()),
            flush_scheduled: false,
            unrendered: BTreeSet::new(),
            fetched_rows: Vec::new(),
            render_scheduled: false,
            confirmed: false,
            lost: Vec::new(),
            unsent_reads: Vec::new(),
            version: 0,
        }
    }
}

/// Every service's signals and the core. `Copy`, so any closure can hold it.
#[derive(Clone, Copy)]
pub(crate) struct Client {
    pub phase: RwSignal<Phase>,
    pub workspace: RwSignal<Workspace>,
    pub inbox: InboxState,
    pub bell: RwSignal<Notices>,
    pub presence: RwSignal<PresenceBoard>,
    pub connection: RwSignal<Connection>,
    /// Whether every change is saved in this browser (tests wait on it
    /// before cutting the network; the pill shows it as a title).
    pub saved: RwSignal<bool>,
    pub toasts: Toasts,
    pub nav: Navigation,
    pub clock: Clock,
    core: StoredValue<Option<Core>, LocalStorage>,
    /// Bumped on sign-out: callbacks of an older session do nothing.
    epoch: StoredValue<u64>,
}

impl Client {
    pub fn new() -> Client {
        Client {
            phase: RwSignal::new(Phase::Booting),
            workspace: RwSignal::new(Workspace::default()),
            inbox: InboxState::new(),
            bell: RwSignal::new(Notices::default()),
            presence: RwSignal::new(PresenceBoard::default()),
            connection: RwSignal::new(Connection::Connecting),
            saved: RwSignal::new(true),
            toasts: Toasts::new(),
            nav: Navigation::new(),
            clock: Clock::new(),
            core: StoredValue::new_local(None),
            epoch: StoredValue::new(0),
        }
    }

    /// Runs `f` on the core, if signed in.
    pub(super) fn with_core<T>(&self, f: impl FnOnce(&mut Core) -> T) -> Option<T> {
        self.core
            .try_update_value(|core| core.as_mut().map(f))
            .flatten()
    }

    /// Reads the core, if signed in.
    pub(super) fn read_core<T>(&self, f: impl FnOnce(&Core) -> T) -> Option<T> {
        self.core.with_value(|core| core.as_ref().map(f))
    }

    pub(super) fn set_core(&self, core: Option<Core>) {
        self.core.set_value(core);
    }

    pub(super) fn epoch(&self) -> u64 {
        self.epoch.get_value()
    }

    /// Ends this session's callbacks: anything they scheduled does nothing.
    pub(super) fn next_epoch(&self) {
        self.epoch.update_value(|e| *e += 1);
    }

    /// Reads a held conversation.
    pub(super) fn conversation(&self, doc: &DocumentId) -> Option<Conversation> {
        self.read_core(|core| conversation::read(core.docs.doc(doc)?).ok())
            .flatten()
    }

    pub(super) fn workspace_doc(&self) -> Option<DocumentId> {
        self.read_core(|c| c.workspace_doc)
    }

    /// Re-derives the workspace and the rows of `changed` documents.
    pub(super) fn refresh(&self, changed: &[DocumentId]) {
        let mut rows = Vec::new();
        let mut gone = Vec::new();
        let mut workspace = None;
        self.with_core(|core| {
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
            self.inbox.rows.update(|inbox| {
                for row in rows {
                    inbox.upsert(row);
                }
                for id in &gone {
                    inbox.remove(id);
                }
            });
        }
    }
}
