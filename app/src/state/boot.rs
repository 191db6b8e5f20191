//! Starting and ending a signed-in session. A start draws what this browser
//! kept: the inbox rows first (drawn before any document is read, so a
//! large inbox shows at once), then the documents in slices that leave the
//! page responsive, then the socket.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use automerge::AutoCommit;
use baton_shared::docset::DocSet;
use baton_shared::ids::DocumentId;
use baton_shared::model::Millis;
use baton_shared::workspace::Workspace;
use leptos::prelude::*;

use super::client::{Client, Core};
use super::navigation::Route;
use super::notices::Notices;
use super::outbox::Outbox;
use super::session::{Phase, SignedIn};
use super::summary::Summary;
use crate::api::{self, ApiError, Me};
use crate::error::AppError;
use crate::storage::{self, Db};

/// Documents loaded (parsed by Automerge) between two yields to the page.
const LOAD_SLICE: usize = 250;
/// Where the signed-in agent is remembered, so the app boots offline.
const CACHED_ME: &str = "baton.me";

/// What IndexedDB held for this agent, but the documents' bytes (read
/// after the rows are on screen).
#[derive(Default)]
struct Kept {
    doc_ids: Vec<String>,
    workspace: Option<Vec<u8>>,
    rows: Vec<(String, String)>,
    seq: Option<u64>,
    seen: HashMap<DocumentId, Millis>,
    outbox: Outbox,
    notices: Notices,
}

impl Client {
    /// Starts the app: the session from the server, or (offline) the one this
    /// browser remembers.
    pub(super) async fn boot(self) {
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

    pub(super) async fn logout(self) {
        let _ = api::logout().await;
        let db_name = self.read_core(|c| c.db_name.clone());
        self.next_epoch();
        self.set_core(None);
        if let Some(name) = db_name {
            storage::forget(&name);
        }
        storage::local::remove(CACHED_ME);
        self.workspace.set(Workspace::default());
        self.inbox.clear();
        self.bell.set(Notices::default());
        self.phase.set(Phase::SignedOut { problem: None });
        self.nav.go(Route::Inbox);
    }

    /// Loads what this browser kept, shows it, then connects.
    async fn start(self, me: Me) {
        let epoch = self.epoch();
        let db_name = format!("baton-{}", me.agent.id);
        let db = match Db::open(&db_name).await {
            Ok(db) => Some(Rc::new(db)),
            Err(problem) => {
                let problem = AppError::Storage(problem);
                self.toasts.problem(
                    format!("This browser cannot keep conversations offline ({problem})."),
                    None,
                );
                None
            }
        };
        let workspace_key = me.workspace.to_string();
        let kept = match &db {
            Some(db) => self.read_kept(db, &workspace_key).await,
            None => Kept::default(),
        };
        if self.epoch() != epoch {
            return;
        }
        let drawn = self.show_kept(&me, db.clone(), db_name, kept);
        self.fetch_notifications();
        // Then the documents, a slice at a time; a row that was not kept
        // (an older app's database) is read from its document.
        let saved = match &db {
            Some(db) => db.load_docs().await.unwrap_or_else(|problem| {
                self.toasts.problem(problem.to_string(), None);
                Vec::new()
            }),
            None => Vec::new(),
        };
        if self.epoch() != epoch || !self.load_documents(&saved, &workspace_key, &drawn).await {
            return;
        }
        self.forget_unkept_outbox();
        self.schedule_persist();
        self.inbox.loaded.set(saved.len() > 1);
        // A conversation opened while its document loaded is read now.
        if let Route::Conversation(doc) = self.nav.route_untracked() {
            self.refresh(&[doc]);
        }
        self.connect();
    }

    async fn read_kept(&self, db: &Db, workspace: &str) -> Kept {
        let mut kept = Kept::default();
        match db.load_rows().await {
            Ok(rows) => kept.rows = rows,
            Err(problem) => self.toasts.problem(problem.to_string(), None),
        }
        match db.doc_ids().await {
            Ok(ids) => kept.doc_ids = ids,
            Err(problem) => self.toasts.problem(problem.to_string(), None),
        }
        kept.workspace = db.load_doc(workspace).await.ok().flatten();
        let meta = async |key| db.get_meta(key).await.ok().flatten();
        kept.seq = meta("seq").await.and_then(|seq| seq.parse().ok());
        if let Some(json) = meta("seen").await {
            kept.seen = serde_json::from_str(&json).unwrap_or_default();
        }
        if let Some(json) = meta("outbox").await {
            kept.outbox = Outbox::from_json(&json);
        }
        if let Some(json) = meta("notices").await {
            kept.notices = Notices::from_json(&json);
        }
        kept
    }

    /// Installs the core and draws the kept workspace, rows and bell; the
    /// session is ready. Returns the documents whose row was drawn.
    fn show_kept(
        &self,
        me: &Me,
        db: Option<Rc<Db>>,
        db_name: String,
        mut kept: Kept,
    ) -> HashSet<DocumentId> {
        // The workspace first: the rows need its agents and channels.
        let mut docs = DocSet::new(format!("browser-{}", me.agent.id));
        docs.resume_from(kept.seq.unwrap_or(0));
        if let Some(bytes) = kept.workspace.take()
            && let Ok(doc) = AutoCommit::load(&bytes)
        {
            docs.insert(me.workspace, doc);
        }
        let pending = kept.outbox.docs();
        let mut core = Core::new(docs, me.agent.id.clone(), me.workspace);
        core.outbox = std::mem::take(&mut kept.outbox);
        core.db = db;
        core.db_name = db_name;
        core.written_seq = kept.seq.unwrap_or(0);
        core.version = kept.rows.len() as u64 + 1;
        self.set_core(Some(core));

        // Draw the kept rows of the documents that are there to back them.
        let held: HashSet<&str> = kept.doc_ids.iter().map(String::as_str).collect();
        let mut drawn = HashSet::new();
        let seen = std::mem::take(&mut kept.seen);
        self.inbox.rows.update(|inbox| {
            inbox.restore_seen(seen);
            for (n, (id, json)) in kept.rows.iter().enumerate() {
                if !held.contains(id.as_str()) {
                    continue;
                }
                if let Ok(doc) = id.parse::<DocumentId>()
                    && let Some(row) = Summary::from_json(doc, json, n as u64 + 1)
                {
                    drawn.insert(doc);
                    inbox.upsert(row);
                }
            }
        });
        self.set_pending(pending);
        self.bell.set(std::mem::take(&mut kept.notices));
        self.refresh(&[me.workspace]);
        // Not "loaded" until the documents are: an open conversation says
        // it is loading rather than missing.
        self.inbox.loaded.set(false);
        self.phase.set(Phase::Ready(SignedIn {
            me: me.agent.id.clone(),
            name: me.agent.name.clone(),
            email: me.agent.email.clone(),
        }));
        drawn
    }

    /// Parses the saved documents, [`LOAD_SLICE`] at a time, and draws the
    /// rows that were not kept. False if the session ended meanwhile.
    async fn load_documents(
        &self,
        saved: &[(String, Vec<u8>)],
        workspace_key: &str,
        drawn: &HashSet<DocumentId>,
    ) -> bool {
        let epoch = self.epoch();
        for (n, slice) in saved.chunks(LOAD_SLICE).enumerate() {
            if n > 0 {
                gloo_timers::future::TimeoutFuture::new(0).await;
                if self.epoch() != epoch {
                    return false;
                }
            }
            let mut unread = Vec::new();
            self.with_core(|core| {
                for (id, bytes) in slice {
                    if id == workspace_key {
                        continue;
                    }
                    if let (Ok(id), Ok(doc)) = (id.parse::<DocumentId>(), AutoCommit::load(bytes)) {
                        core.docs.insert(id, doc);
                        if !drawn.contains(&id) {
                            unread.push(id);
                        }
                    }
                }
                // A row read here is saved, so the next reload draws it.
                core.dirty.extend(unread.iter().copied());
            });
            self.refresh(&unread);
        }
        true
    }

    /// An outbox entry whose change never reached IndexedDB (the tab
    /// closed between two saves) would wait forever: forget it.
    fn forget_unkept_outbox(&self) {
        let pending = self.with_core(|core| {
            let docs = &mut core.docs;
            core.outbox.retain(|doc, hash| {
                docs.doc_mut(doc)
                    .is_some_and(|d| d.get_change_by_hash(hash).is_some())
            });
            core.outbox.docs()
        });
        if let Some(pending) = pending {
            self.set_pending(pending);
        }
    }
}
