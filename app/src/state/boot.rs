//! Starting a signed-in session from what this browser kept: the inbox rows
//! first (drawn before any document is read, so a large inbox shows at
//! once), then the documents in slices that leave the page responsive, then
//! the socket.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use automerge::AutoCommit;
use baton_shared::docset::DocSet;
use baton_shared::ids::DocumentId;
use leptos::prelude::*;

use super::notices::Notices;
use super::outbox::Outbox;
use super::summary::Summary;
use super::{AppState, Core, Phase, Route, Session, ToastKind, pace};
use crate::api::Me;
use crate::storage::Db;

/// Documents loaded (parsed by Automerge) between two yields to the page.
const LOAD_SLICE: usize = 250;

/// What IndexedDB held for this agent, but the documents' bytes (read
/// after the rows are on screen).
#[derive(Default)]
struct Kept {
    doc_ids: Vec<String>,
    workspace: Option<Vec<u8>>,
    rows: Vec<(String, String)>,
    seq: Option<u64>,
    seen: HashMap<DocumentId, baton_shared::model::Millis>,
    outbox: Outbox,
    notices: Notices,
}

async fn read_kept(db: &Db, state: AppState, workspace: &str) -> Kept {
    let mut kept = Kept::default();
    match db.load_rows().await {
        Ok(rows) => kept.rows = rows,
        Err(problem) => state.toast(ToastKind::Problem, problem, None),
    }
    match db.doc_ids().await {
        Ok(ids) => kept.doc_ids = ids,
        Err(problem) => state.toast(ToastKind::Problem, problem, None),
    }
    kept.workspace = db.load_doc(workspace).await.ok().flatten();
    if let Ok(Some(seq)) = db.get_meta("seq").await {
        kept.seq = seq.parse().ok();
    }
    if let Ok(Some(json)) = db.get_meta("seen").await {
        kept.seen = serde_json::from_str(&json).unwrap_or_default();
    }
    if let Ok(Some(json)) = db.get_meta("outbox").await {
        kept.outbox = Outbox::from_json(&json);
    }
    if let Ok(Some(json)) = db.get_meta("notices").await {
        kept.notices = Notices::from_json(&json);
    }
    kept
}

impl AppState {
    /// Loads what this browser kept, shows it, then connects.
    pub(super) async fn start(self, me: Me) {
        let epoch = self.epoch.get_value();
        let db_name = format!("baton-{}", me.agent.id);
        let db = match Db::open(&db_name).await {
            Ok(db) => Some(Rc::new(db)),
            Err(problem) => {
                self.toast(
                    ToastKind::Problem,
                    format!("This browser cannot keep conversations offline ({problem})."),
                    None,
                );
                None
            }
        };
        let workspace_key = me.workspace.to_string();
        let mut kept = match &db {
            Some(db) => read_kept(db, self, &workspace_key).await,
            None => Kept::default(),
        };
        if self.epoch.get_value() != epoch {
            return;
        }
        // The workspace first: the rows need its agents and channels.
        let mut docs = DocSet::new(format!("browser-{}", me.agent.id));
        docs.last_seq = kept.seq.unwrap_or(0);
        if let Some(bytes) = kept.workspace.take()
            && let Ok(doc) = AutoCommit::load(&bytes)
        {
            docs.insert(me.workspace, doc);
        }
        let pending = kept.outbox.docs();
        self.core.set_value(Some(Core {
            docs,
            me: me.agent.id.clone(),
            workspace_doc: me.workspace,
            socket: None,
            outbox: std::mem::take(&mut kept.outbox),
            dirty: BTreeSet::new(),
            db: db.clone(),
            db_name,
            attempt: 0,
            persist_scheduled: false,
            writing: 0,
            awaiting: BTreeSet::new(),
            written_seq: kept.seq.unwrap_or(0),
            refusals: Default::default(),
            queue: Default::default(),
            pace: pace::Pace::new(js_sys::Date::now()),
            flush_scheduled: false,
            unrendered: BTreeSet::new(),
            render_scheduled: false,
            confirmed: false,
            lost: Vec::new(),
            unsent_reads: Vec::new(),
            version: 0,
        }));

        // Draw the kept rows of the documents that are there to back them.
        let held: HashSet<&str> = kept.doc_ids.iter().map(String::as_str).collect();
        let mut drawn = HashSet::new();
        let seen = std::mem::take(&mut kept.seen);
        let rows = std::mem::take(&mut kept.rows);
        self.inbox.update(|inbox| {
            inbox.restore_seen(seen);
            for (n, (id, json)) in rows.iter().enumerate() {
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
        self.core.update_value(|core| {
            if let Some(core) = core.as_mut() {
                core.version = rows.len() as u64 + 1;
            }
        });
        self.set_pending(pending);
        self.notices.set(std::mem::take(&mut kept.notices));
        self.refresh(&[me.workspace]);
        // Not "loaded" until the documents are: an open conversation says
        // it is loading rather than missing.
        self.loaded.set(false);
        self.phase.set(Phase::Ready(Session {
            me: me.agent.id,
            name: me.agent.name,
            email: me.agent.email,
            workspace_doc: me.workspace,
        }));
        self.fetch_notifications();

        // Then the documents, a slice at a time; a row that was not kept
        // (an older app's database) is read from its document.
        let saved = match &db {
            Some(db) => db.load_docs().await.unwrap_or_else(|problem| {
                self.toast(ToastKind::Problem, problem, None);
                Vec::new()
            }),
            None => Vec::new(),
        };
        if self.epoch.get_value() != epoch {
            return;
        }
        for (n, slice) in saved.chunks(LOAD_SLICE).enumerate() {
            if n > 0 {
                gloo_timers::future::TimeoutFuture::new(0).await;
                if self.epoch.get_value() != epoch {
                    return;
                }
            }
            let mut unread = Vec::new();
            self.core.update_value(|core| {
                let Some(core) = core.as_mut() else { return };
                for (id, bytes) in slice {
                    if *id == workspace_key {
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
        // An outbox entry whose change never reached IndexedDB (the tab
        // closed between two saves) would wait forever: forget it.
        let pending = self.core.try_update_value(|core| {
            let core = core.as_mut()?;
            let docs = &mut core.docs;
            core.outbox.retain(|doc, hash| {
                docs.doc_mut(doc)
                    .is_some_and(|d| d.get_change_by_hash(hash).is_some())
            });
            Some(core.outbox.docs())
        });
        if let Some(Some(pending)) = pending {
            self.set_pending(pending);
        }
        self.schedule_persist();
        self.loaded.set(saved.len() > 1);
        // A conversation opened while its document loaded is read now.
        if let Route::Conversation(doc) = self.route.get_untracked() {
            self.refresh(&[doc]);
        }
        self.connect();
    }
}
