//! The conversations the agent holds, as rows, and the views over them:
//! Unassigned / Mine / All, a channel filter, open or resolved, a search.
//! [`Inbox`] is the plain data and its rules; [`InboxState`] is the service
//! the list, the sidebar and the keyboard read.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use baton_shared::ids::{AgentId, ChannelId, DocumentId};
use baton_shared::model::{Millis, Status};
use leptos::prelude::*;

use super::summary::Summary;
use crate::selection::Selection;

/// The inbox service (`use_inbox()`): the rows (written by the state layer
/// only), and what the agent picks in the list.
#[derive(Clone, Copy)]
pub struct InboxState {
    pub(super) rows: RwSignal<Inbox>,
    /// Conversations with a local change the server has not confirmed yet
    /// (apart from the rows, so confirmations do not re-derive the list).
    pub(super) pending: RwSignal<BTreeSet<DocumentId>>,
    /// Whether the first catch-up (or a load from this browser) has happened.
    pub(super) loaded: RwSignal<bool>,
    pub filter: RwSignal<Filter>,
    pub selection: RwSignal<Selection<DocumentId>>,
    /// The row the keyboard is on.
    pub cursor: RwSignal<Option<DocumentId>>,
}

impl InboxState {
    pub(super) fn new() -> InboxState {
        InboxState {
            rows: RwSignal::new(Inbox::default()),
            pending: RwSignal::new(BTreeSet::new()),
            loaded: RwSignal::new(false),
            filter: RwSignal::new(Filter::default()),
            selection: RwSignal::new(Selection::default()),
            cursor: RwSignal::new(None),
        }
    }

    /// Reactive: the rows of the current filter for `me`, in the order shown.
    pub fn visible(&self, me: &AgentId) -> Vec<Arc<Summary>> {
        self.rows.with(|i| self.filter.with(|f| i.rows(f, me)))
    }

    /// Reactive: how many each view holds under the current filter.
    pub fn counts(&self, me: &AgentId) -> Counts {
        self.rows.with(|i| self.filter.with(|f| i.counts(f, me)))
    }

    /// Reactive: the row of `doc`.
    pub fn row(&self, doc: &DocumentId) -> Option<Arc<Summary>> {
        self.rows.with(|i| i.get(doc).cloned())
    }

    /// Reactive: whether the customer spoke since the agent last looked.
    pub fn is_unread(&self, row: &Summary) -> bool {
        self.rows.with(|i| i.is_unread(row))
    }

    /// Reactive: open conversations per assignee.
    pub fn open_by_agent(&self) -> HashMap<AgentId, usize> {
        self.rows.with(Inbox::open_by_agent)
    }

    /// Reactive: whether `doc` has changes the server has not confirmed.
    pub fn is_pending(&self, doc: &DocumentId) -> bool {
        self.pending.with(|p| p.contains(doc))
    }

    /// Reactive: how many conversations wait to sync.
    pub fn pending_count(&self) -> usize {
        self.pending.with(BTreeSet::len)
    }

    /// Reactive: whether the held conversations have been read (from this
    /// browser or the first catch-up).
    pub fn loaded(&self) -> bool {
        self.loaded.get()
    }

    pub(super) fn set_pending(&self, pending: BTreeSet<DocumentId>) {
        if self.pending.with_untracked(|p| *p != pending) {
            self.pending.set(pending);
        }
    }

    /// Forgets everything (sign-out).
    pub(super) fn clear(&self) {
        self.rows.set(Inbox::default());
        self.selection.set(Selection::default());
        self.loaded.set(false);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    #[default]
    Unassigned,
    Mine,
    All,
}

impl View {
    pub const ALL: [View; 3] = [View::Unassigned, View::Mine, View::All];

    pub fn label(self) -> &'static str {
        match self {
            View::Unassigned => "Unassigned",
            View::Mine => "Mine",
            View::All => "All",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            View::Unassigned => "unassigned",
            View::Mine => "mine",
            View::All => "all",
        }
    }
}

/// What the list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub view: View,
    pub channel: Option<ChannelId>,
    pub status: Status,
    pub query: String,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            view: View::Unassigned,
            channel: None,
            status: Status::Open,
            query: String::new(),
        }
    }
}

/// How many conversations each view holds under the current channel and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub unassigned: usize,
    pub mine: usize,
    pub all: usize,
}

impl Counts {
    pub fn of(&self, view: View) -> usize {
        match view {
            View::Unassigned => self.unassigned,
            View::Mine => self.mine,
            View::All => self.all,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Inbox {
    rows: HashMap<DocumentId, Arc<Summary>>,
    /// When the agent last looked at each conversation (local to this browser).
    seen: HashMap<DocumentId, Millis>,
}

impl Inbox {
    pub fn upsert(&mut self, summary: Summary) {
        self.rows.insert(summary.doc, Arc::new(summary));
    }

    /// Upserts `summary` unless the row drawn is newer (drawn after it was
    /// read, e.g. by an action in between).
    pub fn upsert_unless_newer(&mut self, summary: Summary) {
        if self
            .rows
            .get(&summary.doc)
            .is_none_or(|drawn| drawn.version < summary.version)
        {
            self.upsert(summary);
        }
    }

    pub fn remove(&mut self, doc: &DocumentId) {
        self.rows.remove(doc);
    }

    pub fn get(&self, doc: &DocumentId) -> Option<&Arc<Summary>> {
        self.rows.get(doc)
    }

    pub fn mark_seen(&mut self, doc: DocumentId, at: Millis) {
        let entry = self.seen.entry(doc).or_default();
        *entry = (*entry).max(at);
    }

    pub fn seen(&self) -> &HashMap<DocumentId, Millis> {
        &self.seen
    }

    pub fn restore_seen(&mut self, seen: HashMap<DocumentId, Millis>) {
        self.seen = seen;
    }

    /// Unread: the customer spoke after the agent last opened it here.
    pub fn is_unread(&self, row: &Summary) -> bool {
        row.awaiting_reply && row.last_message_at > self.seen.get(&row.doc).copied().unwrap_or(0)
    }

    /// The rows of `filter` for `me`, latest activity first (the server's
    /// order, `shared::summary::list_order`).
    pub fn rows(&self, filter: &Filter, me: &AgentId) -> Vec<Arc<Summary>> {
        let mut rows: Vec<Arc<Summary>> = self
            .rows
            .values()
            .filter(|row| in_scope(row, filter) && in_view(row, filter.view, me))
            .filter(|row| row.matches(&filter.query))
            .cloned()
            .collect();
        rows.sort_by(|a, b| a.list_order(b));
        rows
    }

    /// Live counts of each view under the filter's channel, status and query.
    pub fn counts(&self, filter: &Filter, me: &AgentId) -> Counts {
        let mut counts = Counts::default();
        for row in self.rows.values() {
            if !in_scope(row, filter) || !row.matches(&filter.query) {
                continue;
            }
            counts.all += 1;
            match &row.assignee {
                None => counts.unassigned += 1,
                Some(agent) if agent == me => counts.mine += 1,
                Some(_) => {}
            }
        }
        counts
    }

    /// Open conversations per assignee, for the reassign dropdown and capacity.
    pub fn open_by_agent(&self) -> HashMap<AgentId, usize> {
        let mut open = HashMap::new();
        for row in self.rows.values() {
            if let (Status::Open, Some(agent)) = (row.status, &row.assignee) {
                *open.entry(agent.clone()).or_default() += 1;
            }
        }
        open
    }
}

fn in_scope(row: &Summary, filter: &Filter) -> bool {
    row.status == filter.status && filter.channel.as_ref().is_none_or(|c| *c == row.channel)
}

fn in_view(row: &Summary, view: View, me: &AgentId) -> bool {
    match view {
        View::Unassigned => row.assignee.is_none(),
        View::Mine => row.assignee.as_ref() == Some(me),
        View::All => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures;

    fn row(subject: &str, assignee: Option<&AgentId>, at: Millis) -> Summary {
        let (doc, conversation) = fixtures::conversation(subject, "hello");
        let mut summary = Summary::of(doc, &conversation, 1);
        summary.assignee = assignee.cloned();
        summary.last_message_at = at;
        summary.last_activity_at = at;
        summary
    }

    #[test]
    fn a_row_read_earlier_never_replaces_one_drawn_after_it() {
        let me = AgentId::random();
        let mut inbox = Inbox::default();
        let mut newer = row("a", Some(&me), 5);
        newer.version = 7;
        let mut older = newer.clone();
        older.version = 6;
        older.assignee = None;
        inbox.upsert(newer.clone());
        inbox.upsert_unless_newer(older);
        assert_eq!(inbox.get(&newer.doc).unwrap().assignee, Some(me));
        let mut later = newer.clone();
        later.version = 8;
        later.assignee = None;
        inbox.upsert_unless_newer(later);
        assert_eq!(inbox.get(&newer.doc).unwrap().assignee, None);
    }

    #[test]
    fn views_split_by_assignee_and_counts_follow_them() {
        let me = AgentId::random();
        let other = AgentId::random();
        let mut inbox = Inbox::default();
        inbox.upsert(row("a", None, 1));
        inbox.upsert(row("b", Some(&me), 3));
        inbox.upsert(row("c", Some(&other), 2));
        inbox.upsert(row("d", None, 4));
        let mut filter = Filter::default();
        let subjects = |inbox: &Inbox, filter: &Filter| -> Vec<String> {
            inbox
                .rows(filter, &me)
                .iter()
                .map(|r| r.subject.clone())
                .collect()
        };
        assert_eq!(subjects(&inbox, &filter), ["d", "a"]);
        filter.view = View::Mine;
        assert_eq!(subjects(&inbox, &filter), ["b"]);
        filter.view = View::All;
        assert_eq!(subjects(&inbox, &filter), ["d", "b", "c", "a"]);
        assert_eq!(
            inbox.counts(&filter, &me),
            Counts {
                unassigned: 2,
                mine: 1,
                all: 4
            }
        );
        assert_eq!(inbox.open_by_agent().get(&other), Some(&1));
        inbox.upsert(row("Charlie's refund", None, 5));
        filter.query = "CHARLIE".into();
        assert_eq!(subjects(&inbox, &filter), ["Charlie's refund"]);
        assert_eq!(inbox.counts(&filter, &me).all, 1);
    }

    #[test]
    fn channel_and_status_narrow_every_view() {
        let me = AgentId::random();
        let mut inbox = Inbox::default();
        let mut resolved = row("done", None, 1);
        resolved.status = Status::Resolved;
        inbox.upsert(resolved);
        let open = row("open", None, 2);
        let channel = open.channel.clone();
        inbox.upsert(open);
        let mut filter = Filter::default();
        assert_eq!(inbox.counts(&filter, &me).unassigned, 1);
        filter.status = Status::Resolved;
        assert_eq!(inbox.rows(&filter, &me)[0].subject, "done");
        filter.status = Status::Open;
        filter.channel = Some(ChannelId::random());
        assert_eq!(inbox.counts(&filter, &me).all, 0);
        filter.channel = Some(channel);
        assert_eq!(inbox.counts(&filter, &me).all, 1);
    }

    #[test]
    fn a_conversation_is_unread_until_opened_after_the_customer_spoke() {
        let mut inbox = Inbox::default();
        let summary = row("a", None, 100);
        let doc = summary.doc;
        inbox.upsert(summary.clone());
        assert!(inbox.is_unread(&summary));
        inbox.mark_seen(doc, 100);
        assert!(!inbox.is_unread(&summary));
        // Marking an older time never moves it back.
        inbox.mark_seen(doc, 50);
        assert!(!inbox.is_unread(&summary));
        let newer = Summary {
            last_message_at: 150,
            ..summary
        };
        assert!(inbox.is_unread(&newer));
    }

    #[test]
    fn a_reassign_moves_the_row_up_as_the_server_lists_it() {
        use baton_shared::model::By;
        let (workspace, agents) = fixtures::workspace(&["Ana", "Ben"]);
        let (ana, ben) = (&agents[0], &agents[1]);
        let mut refund = fixtures::document("Refund", "Where is my refund?");
        let mut login = fixtures::document("Login", "I cannot sign in");
        baton_shared::operations::customer_message(&mut login, &workspace, "Still stuck", 2_000)
            .unwrap();
        let mut inbox = Inbox::default();
        let (refund_doc, login_doc) = (DocumentId::random(), DocumentId::random());
        let draw = |inbox: &mut Inbox, doc, document: &automerge::AutoCommit| {
            let conversation = baton_shared::conversation::read(document).unwrap();
            inbox.upsert(Summary::of(doc, &conversation, 1));
            baton_shared::summary::RowSummary::of(&conversation).last_activity_at
        };
        draw(&mut inbox, refund_doc, &refund);
        draw(&mut inbox, login_doc, &login);
        let filter = Filter {
            view: View::All,
            ..Filter::default()
        };
        let order = |inbox: &Inbox| -> Vec<String> {
            inbox
                .rows(&filter, ana)
                .iter()
                .map(|r| r.subject.clone())
                .collect()
        };
        assert_eq!(order(&inbox), ["Login", "Refund"]);

        // Ana hands the older conversation to Ben: it lists first now, in
        // the app as on the server, whose row has the same last activity.
        let by = By::Agent(ana.clone());
        baton_shared::operations::assign(&mut refund, &workspace, &by, Some(ben), None, 3_000)
            .unwrap();
        let moved = draw(&mut inbox, refund_doc, &refund);
        assert_eq!(moved, 3_000);
        assert_eq!(order(&inbox), ["Refund", "Login"]);
        // The customer did not speak again: it stays as read as it was.
        let row = inbox.get(&refund_doc).unwrap().clone();
        inbox.mark_seen(refund_doc, row.last_message_at);
        assert!(!inbox.is_unread(&row));
    }
}
