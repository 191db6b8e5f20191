//! The socket loop in process, over channels instead of a websocket (as
//! axum's testing-websockets example does): the handshake, a refusal, a
//! notification pushed to the agent, and the close of a malformed frame.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Message as Frame;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::{By, Role};
use baton_shared::operations::assign;
use baton_shared::protocol::{BATON_VERSION, Message, PROTOCOL_V1};
use baton_shared::validate::Principal;
use futures_channel::mpsc;
use futures_util::StreamExt;

use crate::AppState;
use crate::auth::{Credential, authenticate};
use crate::hub::Hub;
use crate::store::{SqlStore, Store, Write};

struct Peer {
    to_server: mpsc::UnboundedSender<Result<Frame, Infallible>>,
    from_server: mpsc::UnboundedReceiver<Frame>,
}

impl Peer {
    fn send(&self, message: &Message) {
        let frame = Frame::Binary(message.encode().into());
        self.to_server.unbounded_send(Ok(frame)).unwrap();
    }

    /// The next message the server sends (pings skipped); `Err` with the
    /// close code when it closes.
    async fn next(&mut self) -> Result<Message, u16> {
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(10), self.from_server.next())
                .await
                .expect("the server answered in time")
                .expect("the server kept the channel");
            match frame {
                Frame::Binary(bytes) => return Ok(Message::decode(&bytes).unwrap()),
                Frame::Close(close) => return Err(close.map_or(1005, |c| c.code)),
                _ => {}
            }
        }
    }
}

/// A hub with Ana signed in, and a connection of hers served over channels.
async fn connected() -> (Arc<Hub>, AgentId, Peer, tempfile::TempDir) {
    connected_with(crate::ws::Limits::default()).await
}

/// [`connected`], with these limits on the connection.
async fn connected_with(limits: crate::ws::Limits) -> (Arc<Hub>, AgentId, Peer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir.path()).await.unwrap());
    let hub = Hub::open(store).await.unwrap();
    let ana = crate::team::add_agent(&hub, "ana@acme.test", "Ana", Role::Agent, None, None)
        .await
        .unwrap()
        .id;
    let token = "bses_test-session".to_owned();
    let now = baton_shared::clock::now();
    hub.commit(vec![Write::Session {
        token_hash: crate::secrets::token_hash(&token),
        agent: ana.clone(),
        created_at: now,
        expires_at: now + 60_000,
    }])
    .await
    .unwrap();
    let mut state = AppState::new(hub.clone(), None, Duration::from_secs(60));
    state.limits = limits;
    let caller = authenticate(&state, Credential::Session(token))
        .await
        .unwrap();
    let (to_server, incoming) = mpsc::unbounded();
    let (outgoing, from_server) = mpsc::unbounded();
    let principal = Principal::Agent(ana.clone());
    tokio::spawn(super::serve(outgoing, incoming, state, caller, principal));
    let mut peer = Peer {
        to_server,
        from_server,
    };
    peer.send(&Message::Join {
        sender_id: "tab".to_owned(),
        supported_protocol_versions: vec![PROTOCOL_V1.to_owned()],
        peer_metadata: None,
        baton: Some(BATON_VERSION),
    });
    match peer.next().await {
        Ok(Message::Peer { baton, .. }) => assert_eq!(baton, Some(BATON_VERSION)),
        other => panic!("expected peer, got {other:?}"),
    }
    (hub, ana, peer, dir)
}

/// Dana writes in about a refund, through the ingest path a channel uses.
async fn conversation(hub: &Hub) -> DocumentId {
    let channel = crate::team::add_channel(hub, "Email", "email")
        .await
        .unwrap()
        .id;
    conversation_in(hub, &channel).await
}

async fn conversation_in(hub: &Hub, channel: &baton_shared::ids::ChannelId) -> DocumentId {
    let incoming: crate::ingest::Incoming = serde_json::from_value(serde_json::json!({
        "customer": { "email": "dana@example.com", "name": "Dana" },
        "subject": "Refund",
        "body": "Hello",
    }))
    .unwrap();
    let (landed, _) = crate::ingest::receive(hub, channel, &incoming)
        .await
        .unwrap();
    landed.document
}

#[tokio::test]
async fn a_whole_document_sent_as_a_change_is_refused_in_words() {
    let (hub, _, mut peer, _dir) = connected().await;
    let doc = conversation(&hub).await;
    let whole = hub.copy_of(doc).await.unwrap().save();
    let sync = automerge::sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![whole].into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    peer.send(&Message::Sync {
        sender_id: "tab".to_owned(),
        target_id: "baton-server".to_owned(),
        document_id: doc,
        data: sync.encode(),
    });
    loop {
        match peer.next().await {
            Ok(Message::BatonError { code, message, .. }) => {
                assert_eq!(code, "malformed");
                assert!(message.contains("send changes"), "{message}");
                break;
            }
            Ok(_) => continue,
            Err(code) => panic!("closed with {code}"),
        }
    }
}

#[tokio::test]
async fn an_assignment_elsewhere_is_pushed_to_the_agent() {
    let (hub, ana, mut peer, _dir) = connected().await;
    let doc = conversation(&hub).await;
    hub.change_conversation(doc, |d, ws| {
        let now = baton_shared::clock::now();
        assign(d, ws, &By::Server, Some(&ana), None, now).map(|_| ())
    })
    .await
    .unwrap();
    loop {
        match peer.next().await {
            Ok(Message::BatonNotification { notification, .. })
                if notification.kind == baton_shared::notify::NoticeKind::AssignedToYou =>
            {
                assert_eq!(notification.agent, ana);
                assert_eq!(notification.text, "Baton assigned you “Refund”");
                break;
            }
            Ok(_) => continue,
            Err(code) => panic!("closed with {code}"),
        }
    }
}

#[tokio::test]
async fn a_malformed_frame_closes_the_connection_with_1007() {
    let (_hub, _, mut peer, _dir) = connected().await;
    peer.to_server
        .unbounded_send(Ok(Frame::Binary(vec![0xff, 0x00].into())))
        .unwrap();
    loop {
        match peer.next().await {
            Ok(_) => continue,
            Err(code) => {
                assert_eq!(code, 1007);
                break;
            }
        }
    }
}

#[tokio::test]
async fn a_fetch_is_read_and_sent_a_run_at_a_time_within_its_byte_budget() {
    let limits = crate::ws::Limits {
        // Every conversation is larger: each run holds one.
        fetch_read_bytes: 1,
        ..crate::ws::Limits::default()
    };
    let (hub, _, mut peer, _dir) = connected_with(limits).await;
    let channel = crate::team::add_channel(&hub, "Email", "email")
        .await
        .unwrap()
        .id;
    let mut docs = Vec::new();
    for _ in 0..3 {
        docs.push(conversation_in(&hub, &channel).await);
    }
    let unknown = DocumentId::random();
    peer.send(&Message::BatonFetch {
        sender_id: "tab".to_owned(),
        target_id: "baton-server".to_owned(),
        document_ids: vec![docs[0], unknown, docs[1], docs[2]],
    });
    let mut answers = Vec::new();
    while answers.len() < 4 {
        match peer.next().await {
            Ok(Message::BatonDocuments { documents, .. }) => {
                let ids: Vec<DocumentId> = documents.iter().map(|d| d.document_id).collect();
                for saved in &documents {
                    let heads = hub.copy_of(saved.document_id).await.unwrap().get_heads();
                    let mut loaded = automerge::AutoCommit::load(&saved.data).unwrap();
                    assert_eq!(
                        loaded.get_heads(),
                        heads,
                        "the bytes are the whole document"
                    );
                }
                answers.push(format!("documents {ids:?}"));
            }
            Ok(Message::DocUnavailable { document_id, .. }) => {
                answers.push(format!("unavailable {document_id}"));
            }
            Ok(_) => continue,
            Err(code) => panic!("closed with {code}"),
        }
    }
    // One run per conversation, in the order asked; the unknown id with
    // the run that reached it.
    assert_eq!(
        answers,
        vec![
            format!("documents {:?}", [docs[0]]),
            format!("unavailable {unknown}"),
            format!("documents {:?}", [docs[1]]),
            format!("documents {:?}", [docs[2]]),
        ]
    );
}
