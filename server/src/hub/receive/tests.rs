//! The receive steps in process: a real hub on a SQLite store in a
//! temporary directory, changes made as an agent's app makes them.

use std::sync::Arc;

use automerge::sync;
use automerge::{ActorId, AutoCommit, Change};
use baton_shared::conversation::{NewConversation, read};
use baton_shared::ids::{AgentId, BatchId, ChannelId, ConversationId, DocumentId};
use baton_shared::model::{By, Conversation, Customer, Role};
use baton_shared::notify::NoticeKind;
use baton_shared::operations::{ReplyMode, assign, customer_message, note, reply};
use baton_shared::validate::{OnlineHistory, Principal};
use baton_shared::workspace::Workspace;

use super::{PeerDoc, Received, Sender};
use crate::hub::Hub;
use crate::store::{SqlStore, Store};
use crate::team;

struct Team {
    hub: Arc<Hub>,
    ana: AgentId,
    ben: AgentId,
    channel: ChannelId,
    _dir: tempfile::TempDir,
}

async fn team() -> Team {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir.path()).await.unwrap());
    let hub = Hub::open(store).await.unwrap();
    let add = |email: &'static str, name: &'static str| {
        let hub = hub.clone();
        async move {
            team::add_agent(&hub, email, name, Role::Agent, None, None)
                .await
                .unwrap()
                .id
        }
    };
    let ana = add("ana@acme.test", "Ana").await;
    let ben = add("ben@acme.test", "Ben").await;
    let channel = team::add_channel(&hub, "Email", "email").await.unwrap().id;
    Team {
        hub,
        ana,
        ben,
        channel,
        _dir: dir,
    }
}

impl Team {
    async fn conversation(&self) -> DocumentId {
        let new = NewConversation {
            id: ConversationId::random(),
            channel: self.channel.clone(),
            subject: "Refund".to_owned(),
            customer: Customer {
                id: "cus_1".to_owned(),
                name: "Dana".to_owned(),
                email: "dana@example.com".to_owned(),
            },
            at: baton_shared::clock::now(),
        };
        let (doc, (), _) = self
            .hub
            .create_conversation(&new, |doc, ws| {
                customer_message(doc, ws, "Hello", baton_shared::clock::now()).map(|_| ())
            })
            .await
            .unwrap();
        doc
    }

    /// A copy of `doc` as an app of `agent` holds it.
    async fn app(&self, doc: DocumentId) -> AutoCommit {
        self.hub
            .copy_of(doc)
            .await
            .unwrap()
            .with_actor(ActorId::random())
    }

    /// A new conversation, the workspace, and an app's copy of the
    /// conversation: where most tests start.
    async fn conversation_in_app(&self) -> (DocumentId, Arc<Workspace>, AutoCommit) {
        let doc = self.conversation().await;
        let ws = self.hub.workspace().await.unwrap();
        (doc, ws, self.app(doc).await)
    }

    /// Ana (re)assigns the conversation in `app` to Ben, in `batch` if any.
    fn ana_assigns_ben(&self, app: &mut AutoCommit, ws: &Workspace, batch: Option<&BatchId>) {
        let by = By::Agent(self.ana.clone());
        let now = baton_shared::clock::now();
        assign(app, ws, &by, Some(&self.ben), batch, now).unwrap();
    }

    /// The conversation as the store now holds it.
    async fn stored(&self, doc: DocumentId) -> Conversation {
        read(&self.hub.copy_of(doc).await.unwrap()).unwrap()
    }

    /// Sends `changes` of `doc` as `agent`'s app would.
    async fn send(&self, agent: &AgentId, doc: DocumentId, changes: &[Change]) -> Received {
        let sender = Sender::new(Principal::Agent(agent.clone()), OnlineHistory::default());
        let changes: Vec<&Change> = changes.iter().collect();
        self.hub
            .receive_sync(doc, &sender, &mut PeerDoc::default(), carrying(&changes))
            .await
            .unwrap()
    }
}

/// A sync message carrying `changes`, as an app sends what it made.
fn carrying(changes: &[&Change]) -> sync::Message {
    sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: changes
            .iter()
            .map(|c| c.raw_bytes().to_vec())
            .collect::<Vec<_>>()
            .into(),
        flags: None,
        version: sync::MessageVersion::V1,
    }
}

fn last(doc: &mut AutoCommit) -> Change {
    doc.get_last_local_change().unwrap()
}

#[tokio::test]
async fn an_honest_change_is_committed_and_its_assignee_told_once() {
    let t = team().await;
    let (doc, ws, mut app) = t.conversation_in_app().await;
    t.ana_assigns_ben(&mut app, &ws, None);
    let received = t.send(&t.ana, doc, &[last(&mut app)]).await;
    assert!(received.refused.is_none() && received.changed);
    let told: Vec<_> = received
        .notifications
        .iter()
        .map(|n| (n.agent.clone(), n.kind))
        .collect();
    assert_eq!(told, [(t.ben.clone(), NoticeKind::AssignedToYou)]);
    let stored = t.stored(doc).await;
    assert_eq!(stored.assignee(), Some(&t.ben));
}

#[tokio::test]
async fn a_batch_counts_from_the_store_across_conversations() {
    let t = team().await;
    let ws = t.hub.workspace().await.unwrap();
    let batch = BatchId::random();
    let mut counts = Vec::new();
    for _ in 0..3 {
        let doc = t.conversation().await;
        let mut app = t.app(doc).await;
        t.ana_assigns_ben(&mut app, &ws, Some(&batch));
        let received = t.send(&t.ana, doc, &[last(&mut app)]).await;
        counts.extend(received.notifications.iter().map(|n| n.count));
    }
    assert_eq!(counts, [1, 2, 3]);
}

#[tokio::test]
async fn a_change_under_someone_elses_actor_is_refused_and_nothing_kept() {
    let t = team().await;
    let (doc, ws, mut app) = t.conversation_in_app().await;
    note(&mut app, &ws, &t.ana, "mine", baton_shared::clock::now()).unwrap();
    assert!(t.send(&t.ana, doc, &[last(&mut app)]).await.changed);
    // Ben writes with Ana's actor.
    note(&mut app, &ws, &t.ben, "whose?", baton_shared::clock::now()).unwrap();
    let received = t.send(&t.ben, doc, &[last(&mut app)]).await;
    assert_eq!(received.refused.map(|v| v.code()), Some("forged_by"));
    assert!(!received.changed);
    let stored = t.stored(doc).await;
    assert_eq!(stored.messages.len(), 2, "the customer's and Ana's note");
}

#[tokio::test]
async fn concurrent_claims_are_settled_once_and_the_later_claimer_told() {
    let t = team().await;
    let doc = t.conversation().await;
    let ws = t.hub.workspace().await.unwrap();
    let mut anas = t.app(doc).await;
    let mut bens = t.app(doc).await;
    let now = baton_shared::clock::now();
    reply(&mut anas, &ws, &t.ana, "Ana", ReplyMode::Claim, now).unwrap();
    reply(&mut bens, &ws, &t.ben, "Ben", ReplyMode::Claim, now + 5).unwrap();
    t.send(&t.ana, doc, &[last(&mut anas)]).await;
    let received = t.send(&t.ben, doc, &[last(&mut bens)]).await;
    assert!(received.refused.is_none(), "{:?}", received.refused);
    let stored = t.stored(doc).await;
    assert_eq!(stored.assignee(), Some(&t.ana), "the first claim holds");
    assert_eq!(stored.assignments.len(), 1, "settled");
    let settled = stored
        .activity
        .iter()
        .filter(|a| matches!(a.event, baton_shared::model::ActivityEvent::Settled { .. }))
        .count();
    assert_eq!(settled, 1);
    let bens_notices: Vec<_> = received
        .notifications
        .iter()
        .filter(|n| n.agent == t.ben)
        .map(|n| n.kind)
        .collect();
    assert_eq!(bens_notices, [NoticeKind::Lost]);
}

#[tokio::test]
async fn a_change_before_its_parent_waits_and_both_apply_once_it_comes() {
    let t = team().await;
    let (doc, ws, mut app) = t.conversation_in_app().await;
    note(&mut app, &ws, &t.ana, "first", baton_shared::clock::now()).unwrap();
    let first = last(&mut app);
    note(&mut app, &ws, &t.ana, "second", baton_shared::clock::now()).unwrap();
    let second = last(&mut app);
    let sender = Sender::new(Principal::Agent(t.ana.clone()), OnlineHistory::default());
    let mut peer = PeerDoc::default();
    let early = t
        .hub
        .receive_sync(doc, &sender, &mut peer, carrying(&[&second]))
        .await
        .unwrap();
    assert!(!early.changed && early.refused.is_none());
    assert!(peer.waiting_bytes() > 0, "the second waits");
    let reply = early.reply.expect("an answer asking for the parent");
    assert!(reply.need.contains(&first.hash()));
    let both = t
        .hub
        .receive_sync(doc, &sender, &mut peer, carrying(&[&first]))
        .await
        .unwrap();
    assert!(both.changed);
    assert_eq!(peer.waiting_bytes(), 0);
    let stored = t.stored(doc).await;
    assert_eq!(stored.messages.len(), 3);
}
