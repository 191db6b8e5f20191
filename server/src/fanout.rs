//! Who is connected, and what each connection still has to send. Nothing
//! queues without bound: a changed document only marks the connection's
//! set of documents to sync (coalesced), and notifications keep the newest
//! few. A slow peer lags behind on its own; it never slows the others.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::protocol::Presence;
use tokio::sync::Notify;

use crate::store::NotificationRow;

/// Most pushes waiting for one connection; past that the peer is told to
/// resync its notifications from the API.
pub const MAX_PUSHES: usize = 256;
/// Unheld documents remembered per peer between two flushes.
const MAX_UNHELD: usize = 10_000;

/// Something to send to one connection that is not a document sync.
#[derive(Debug, Clone)]
pub enum Push {
    Notification(NotificationRow),
    NotificationsRead(Vec<String>),
    Presence {
        document: DocumentId,
        presence: Presence,
    },
}

pub use crate::broadcast::Ending;

/// One connected peer.
pub struct Connection {
    pub id: u64,
    pub agent: AgentId,
    /// The hash of the session or API token it signed in with.
    pub credential: String,
    /// The span recording when it was open (see `hub::online`).
    pub span: String,
    /// Documents this peer syncs.
    pub documents: Mutex<HashSet<DocumentId>>,
    dirty: Mutex<BTreeSet<DocumentId>>,
    /// Documents that changed (or were created) and the peer does not hold:
    /// a Baton peer is told so it can open them (a new conversation).
    unheld: Mutex<BTreeSet<DocumentId>>,
    pushes: Mutex<VecDeque<Push>>,
    lagged: AtomicBool,
    ending: Mutex<Option<Ending>>,
    pub wake: Notify,
}

impl Connection {
    /// Documents changed since the last call.
    pub fn take_dirty(&self) -> BTreeSet<DocumentId> {
        std::mem::take(&mut *lock(&self.dirty))
    }

    pub fn take_unheld(&self) -> BTreeSet<DocumentId> {
        std::mem::take(&mut *lock(&self.unheld))
    }

    /// Pushes waiting, and whether some were dropped because the peer lagged.
    pub fn take_pushes(&self) -> (Vec<Push>, bool) {
        let pushes = lock(&self.pushes).drain(..).collect();
        (pushes, self.lagged.swap(false, Ordering::Relaxed))
    }

    /// Set when the server has ended this connection.
    pub fn ending(&self) -> Option<Ending> {
        *lock(&self.ending)
    }

    pub fn holds(&self, id: &DocumentId) -> bool {
        lock(&self.documents).contains(id)
    }

    fn push(&self, push: Push) {
        let mut pushes = lock(&self.pushes);
        // A newer state of the same notification replaces one not yet sent.
        // Counts come from the store and only grow; two commits of a batch
        // may be announced in either order, so the larger count stays.
        if let Push::Notification(row) = &push
            && let Some(queued) = pushes.iter_mut().find_map(|p| match p {
                Push::Notification(q) if q.id == row.id => Some(q),
                _ => None,
            })
        {
            if row.count >= queued.count {
                *queued = row.clone();
            }
            drop(pushes);
            self.wake.notify_one();
            return;
        }
        if pushes.len() >= MAX_PUSHES {
            pushes.pop_front();
            self.lagged.store(true, Ordering::Relaxed);
        }
        pushes.push_back(push);
        drop(pushes);
        self.wake.notify_one();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every live connection of this server.
#[derive(Default)]
pub struct Live {
    next: AtomicU64,
    connections: Mutex<HashMap<u64, Arc<Connection>>>,
}

impl Live {
    /// Registers a new connection for `agent`, signed in with the session
    /// or token whose hash is `credential`.
    pub fn connect(&self, agent: AgentId, credential: String, span: String) -> Arc<Connection> {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let connection = Arc::new(Connection {
            id,
            agent,
            credential,
            span,
            documents: Mutex::default(),
            dirty: Mutex::default(),
            unheld: Mutex::default(),
            pushes: Mutex::default(),
            lagged: AtomicBool::new(false),
            ending: Mutex::new(None),
            wake: Notify::new(),
        });
        lock(&self.connections).insert(id, connection.clone());
        connection
    }

    pub fn disconnect(&self, id: u64) {
        lock(&self.connections).remove(&id);
    }

    /// How many peers are connected.
    pub fn count(&self) -> usize {
        lock(&self.connections).len()
    }

    /// How many connections `agent` has open.
    pub fn count_of(&self, agent: &AgentId) -> usize {
        lock(&self.connections)
            .values()
            .filter(|c| &c.agent == agent)
            .count()
    }

    /// The spans of every open connection.
    pub fn spans(&self) -> Vec<String> {
        lock(&self.connections)
            .values()
            .map(|c| c.span.clone())
            .collect()
    }

    fn each(&self, mut f: impl FnMut(&Arc<Connection>)) {
        let connections: Vec<_> = lock(&self.connections).values().cloned().collect();
        for connection in &connections {
            f(connection);
        }
    }

    /// `document` changed: every other peer holding it must sync.
    pub fn changed(&self, document: DocumentId, except: Option<u64>) {
        self.each(|c| {
            if Some(c.id) == except {
                return;
            }
            if c.holds(&document) {
                lock(&c.dirty).insert(document);
            } else {
                let mut unheld = lock(&c.unheld);
                // A peer that holds nothing of a burst learns of it at its next catch-up.
                if unheld.len() < MAX_UNHELD {
                    unheld.insert(document);
                }
            }
            c.wake.notify_one();
        });
    }

    /// Pushes each notification to its agent's connections.
    pub fn notify(&self, notifications: &[NotificationRow]) {
        if notifications.is_empty() {
            return;
        }
        self.each(|c| {
            for n in notifications.iter().filter(|n| n.agent == c.agent) {
                c.push(Push::Notification(n.clone()));
            }
        });
    }

    /// The agent read notifications in one tab: tell their other tabs.
    pub fn read(&self, agent: &AgentId, ids: &[String], except: u64) {
        self.each(|c| {
            if c.id != except && &c.agent == agent {
                c.push(Push::NotificationsRead(ids.to_vec()));
            }
        });
    }

    /// Every connection may have missed notifications (this node was cut
    /// off from what others told): each reloads them.
    pub fn lagged_all(&self) {
        self.each(|c| {
            c.lagged.store(true, Ordering::Relaxed);
            c.wake.notify_one();
        });
    }

    /// Applies what another node told.
    pub fn hear(&self, broadcast: &crate::broadcast::Broadcast) {
        use crate::broadcast::Broadcast;
        match broadcast {
            Broadcast::Notification { row } => self.notify(std::slice::from_ref(row)),
            Broadcast::Read { agent, ids } => self.read(agent, ids, 0),
            Broadcast::Ended { agent, why } => self.end(agent, *why),
            Broadcast::SignedOut { credential } => self.end_credential_prefix(credential),
        }
    }

    /// Ends every connection of `agent`; each closes on its next wake.
    pub fn end(&self, agent: &AgentId, why: Ending) {
        self.end_where(|c| &c.agent == agent, why);
    }

    /// Ends the connections signed in with the credential of this hash.
    pub fn end_credential(&self, hash: &str) {
        self.end_where(|c| c.credential == hash, Ending::SignedOut);
    }

    /// Ends the connections whose credential's hash starts with `prefix`
    /// (an API token's id).
    pub fn end_credential_prefix(&self, prefix: &str) {
        self.end_where(|c| c.credential.starts_with(prefix), Ending::SignedOut);
    }

    fn end_where(&self, matches: impl Fn(&Connection) -> bool, why: Ending) {
        self.each(|c| {
            if matches(c) {
                *lock(&c.ending) = Some(why);
                c.wake.notify_one();
            }
        });
    }

    /// Shares presence with the other peers holding `document`.
    pub fn presence(&self, document: DocumentId, presence: &Presence, except: u64) {
        self.each(|c| {
            if c.id != except && c.holds(&document) {
                c.push(Push::Presence {
                    document,
                    presence: presence.clone(),
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_shared::notify::NoticeKind;

    fn batch_row(agent: &AgentId, count: u32) -> NotificationRow {
        NotificationRow {
            id: "ntf_batch".to_owned(),
            agent: agent.clone(),
            conversation: baton_shared::ids::ConversationId::random(),
            document: DocumentId::random(),
            kind: NoticeKind::AssignedToYou,
            actor: Some("Ana".to_owned()),
            subject: "Refund".to_owned(),
            batch: Some("agt_ana/bat_1".to_owned()),
            count,
            at: 0,
            read: false,
        }
    }

    #[test]
    fn a_batch_announced_out_of_order_is_pushed_at_its_largest_count() {
        let live = Live::default();
        let agent = AgentId::random();
        let connection = live.connect(agent.clone(), "hash".to_owned(), "span".to_owned());
        for count in [1, 3, 2, 5, 4] {
            live.notify(&[batch_row(&agent, count)]);
        }
        let (pushes, _) = connection.take_pushes();
        let counts: Vec<u32> = pushes
            .iter()
            .map(|p| match p {
                Push::Notification(row) => row.count,
                other => panic!("unexpected push {other:?}"),
            })
            .collect();
        assert_eq!(counts, [5], "one entry, at the count the store gave last");
    }
}
