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
    let state = AppState::new(hub.clone(), None, Duration::from_secs(60));
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
    let incoming: crate::ingest::Incoming = serde_json::from_value(serde_json::json!({
        "customer": { "email": "dana@example.com", "name": "Dana" },
        "subject": "Refund",
        "body": "Hello",
    }))
    .unwrap();
    let (landed, _) = crate::ingest::receive(hub, &channel, &incoming)
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
