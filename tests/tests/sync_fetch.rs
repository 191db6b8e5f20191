//! A first sign-in fetches documents whole (`baton/fetch`) instead of a
//! sync exchange each, and what it fetched stays live both ways.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use baton_shared::docset::Event;
use baton_shared::ids::DocumentId;
use baton_shared::protocol::{MAX_FETCH_DOCUMENTS, Message};
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{PASSWORD, Server, Team, new_conversation, session_token, workspace_document};

const WAIT: Duration = Duration::from_secs(30);

async fn signed_in(server: &Server, email: &str) -> anyhow::Result<SyncClient> {
    let token = session_token(server, email, PASSWORD).await?;
    SyncClient::connect(&server.url, &Auth::Session(token)).await
}

fn fetched(client: &SyncClient) -> Vec<DocumentId> {
    client
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Fetched { document, .. } => Some(*document),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_first_catch_up_fetches_documents_whole_and_they_stay_live() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let mut conversations = Vec::new();
    for n in 0..30 {
        conversations.push(new_conversation(&server, &team, &format!("c{n}")).await?);
    }
    let workspace_id = workspace_document(&server).await?;

    let mut ana = signed_in(&server, "ana@acme.test").await?;
    ana.docs.catch_up();
    ana.wait(WAIT, |c| {
        conversations.iter().all(|id| c.docs.doc(id).is_some())
    })
    .await?;
    let whole = fetched(&ana);
    assert!(
        conversations.iter().all(|id| whole.contains(id)),
        "every conversation came whole"
    );
    assert!(
        conversations
            .iter()
            .all(|id| ana.conversation(*id).is_some()),
        "each reads as a conversation"
    );
    // In step: nothing to say about any of them.
    ana.docs.sync_all();
    assert!(
        !ana.docs
            .take_outgoing()
            .iter()
            .any(|m| matches!(m, Message::Sync { document_id, .. } if conversations.contains(document_id))),
        "a fetched document needs no sync exchange"
    );

    // Another agent's change reaches the fetched copy without asking.
    let mut ben = signed_in(&server, "ben@acme.test").await?;
    ben.open_all(&[workspace_id, conversations[0], conversations[1]])
        .await?;
    let ws = ben.workspace(workspace_id)?;
    let ben_id = ben.agent_id(workspace_id, "ben@acme.test")?;
    let ana_id = ben.agent_id(workspace_id, "ana@acme.test")?;
    ben.reassign_now(conversations[0], &ws, &ben_id, &ana_id)?;
    ben.docs.sync(conversations[0]);
    ben.settle(conversations[0]).await?;
    ana.wait(WAIT, |c| {
        c.assignee(conversations[0]).as_ref() == Some(&ana_id)
    })
    .await?;

    // And Ana's change to a fetched copy reaches the server and Ben.
    let ws = ana.workspace(workspace_id)?;
    ana.reassign_now(conversations[1], &ws, &ana_id, &ben_id)?;
    ana.docs.sync(conversations[1]);
    ana.settle(conversations[1]).await?;
    ben.wait(WAIT, |c| {
        c.assignee(conversations[1]).as_ref() == Some(&ben_id)
    })
    .await?;
    assert!(ana.refusals().is_empty(), "{:?}", ana.refusals());
    server.stop().await
}

#[tokio::test]
async fn a_fetch_answers_unknown_documents_as_unavailable_and_refuses_too_many()
-> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let known = new_conversation(&server, &team, "known").await?;
    let unknown = DocumentId::from_bytes([7; 16]);

    let mut ana = signed_in(&server, "ana@acme.test").await?;
    ana.send(&Message::BatonFetch {
        sender_id: "test".to_owned(),
        target_id: "baton-server".to_owned(),
        document_ids: vec![known, unknown],
    })
    .await?;
    ana.wait(WAIT, |c| {
        c.docs.doc(&known).is_some() && c.events.contains(&Event::Unavailable(unknown))
    })
    .await?;

    let too_many = (0..=MAX_FETCH_DOCUMENTS)
        .map(|n| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&(n as u64).to_be_bytes());
            DocumentId::from_bytes(id)
        })
        .collect();
    ana.send(&Message::BatonFetch {
        sender_id: "test".to_owned(),
        target_id: "baton-server".to_owned(),
        document_ids: too_many,
    })
    .await?;
    let _ = ana.wait(WAIT, |c| c.closed.is_some()).await;
    assert_eq!(
        ana.closed,
        Some(1008),
        "a fetch over the limit closes the socket"
    );
    server.stop().await
}
