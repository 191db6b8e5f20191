//! Catch-up syncs only what changed while a client was away, and `kill -9`
//! under a stream of sync writes loses no change the server acknowledged.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use baton_shared::conversation::read;
use baton_shared::docset::Event;
use baton_shared::ids::DocumentId;
use baton_shared::workspace;
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{PASSWORD, Server, Team, session_token};
use serde_json::{Value, json};

async fn ingest_many(
    server: &Server,
    team: &Team,
    bodies: Vec<Value>,
) -> anyhow::Result<Vec<Value>> {
    let url = server.at(&format!("/api/channels/{}/messages", team.channel));
    let http = reqwest::Client::new();
    let mut landed = Vec::new();
    // Eight at a time: concurrent requests share commits.
    for chunk in bodies.chunks(8) {
        let sends = chunk
            .iter()
            .map(|b| http.post(&url).bearer_auth(&team.secret).json(b).send());
        for response in futures_util::future::join_all(sends).await {
            let response = response?;
            anyhow::ensure!(
                response.status() == 201,
                "ingest answered {}",
                response.status()
            );
            landed.push(response.json::<Value>().await?);
        }
    }
    Ok(landed)
}

#[tokio::test]
async fn catch_up_syncs_only_the_documents_that_changed() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let bodies = (0..2000)
        .map(|i| json!({ "customer": { "email": format!("c{i}@shop.example"), "name": format!("C{i}") }, "subject": format!("Order {i}"), "body": "Hi" }))
        .collect();
    let landed = ingest_many(&server, &team, bodies).await?;

    let token = session_token(&server, "ana@acme.test", PASSWORD).await?;
    let auth = Auth::Session(token);
    let mut ana = SyncClient::connect(&server.url, &auth).await?;
    // A first catch-up from 0 lists every document; the client opens them all.
    ana.docs.catch_up();
    ana.wait(Duration::from_secs(60), |c| c.docs.ids().count() == 2001)
        .await?;
    let mut docs = ana.disconnect().await;
    docs.take_synced();

    // While Ana is away, 100 conversations get a new customer message.
    let follow_ups = landed[..100]
        .iter()
        .map(|l| json!({ "customer": { "email": "x@shop.example", "name": "X" }, "body": "Any news?", "conversation": l["conversation"] }))
        .collect();
    ingest_many(&server, &team, follow_ups).await?;
    let changed: Vec<DocumentId> = landed[..100]
        .iter()
        .map(|l| l["document"].as_str().unwrap().parse().unwrap())
        .collect();

    let start = Instant::now();
    let mut ana = SyncClient::reconnect(&server.url, &auth, docs).await?;
    ana.docs.catch_up();
    ana.wait(Duration::from_secs(30), |c| {
        changed
            .iter()
            .all(|id| read(c.docs.doc(id).unwrap()).unwrap().messages.len() == 2)
    })
    .await?;
    ana.idle(Duration::from_millis(200)).await?;
    let took = start.elapsed();
    let caught_up = ana.events.iter().find_map(|e| match e {
        Event::CaughtUp { documents, .. } => Some(documents.len()),
        _ => None,
    });
    let synced = ana.docs.take_synced();
    println!(
        "catch-up: 2,000 held, 100 changed; {} listed, {} synced, {:?}, {} bytes in, {} bytes out",
        caught_up.unwrap_or_default(),
        synced.len(),
        took,
        ana.bytes_in,
        ana.bytes_out
    );
    assert_eq!(caught_up, Some(100));
    assert_eq!(synced.len(), 100, "only the changed documents were synced");
    server.stop().await
}

#[tokio::test]
async fn kill_9_under_sync_writes_loses_no_acknowledged_change() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let landed = ingest_many(&server, &team, vec![json!({ "customer": { "email": "d@shop.example", "name": "D" }, "subject": "Hi", "body": "Hi" })]).await?;
    let doc: DocumentId = landed[0]["document"].as_str().unwrap().parse()?;
    let token = session_token(&server, "ana@acme.test", PASSWORD).await?;
    let mut ana = SyncClient::connect(&server.url, &Auth::Session(token.clone())).await?;
    let me: Value = reqwest::Client::new()
        .get(server.at("/api/me"))
        .header("cookie", format!("baton_session={token}"))
        .send()
        .await?
        .json()
        .await?;
    let ws_id: DocumentId = me["workspace"].as_str().unwrap().parse()?;
    ana.open_all(&[ws_id, doc]).await?;
    let ws = workspace::read(ana.docs.doc(&ws_id).unwrap())?;
    let ana_id = ws
        .agents
        .values()
        .find(|a| a.email == "ana@acme.test")
        .unwrap()
        .id
        .clone();

    // Write notes one after another; a note counts as acknowledged once the
    // server's heads include it. Kill the server mid-stream.
    let mut acked = Vec::new();
    let mut pending = Vec::new();
    let mut written = 0;
    while acked.len() < 60 {
        ana.note_now(doc, &ws, &ana_id, &format!("note {written}"))?;
        written += 1;
        let hash = ana.docs.doc_mut(&doc).unwrap().get_heads()[0];
        pending.push(hash);
        ana.docs.sync(doc);
        ana.idle(Duration::from_millis(2)).await?;
        pending.retain(|h| {
            if ana.docs.server_has(&doc, h) {
                acked.push(*h);
                false
            } else {
                true
            }
        });
    }
    server.kill_hard().await?;
    println!(
        "kill -9 under sync writes: {written} written, {} acknowledged",
        acked.len()
    );

    let server = Server::start(team.path(), &[]).await?;
    let token = session_token(&server, "admin@acme.test", PASSWORD).await?;
    let mut admin = SyncClient::connect(&server.url, &Auth::Session(token)).await?;
    admin.open_all(&[doc]).await?;
    let stored = admin.docs.doc_mut(&doc).unwrap();
    let lost: Vec<_> = acked
        .iter()
        .filter(|h| stored.get_change_by_hash(h).is_none())
        .collect();
    assert!(lost.is_empty(), "{} acknowledged changes lost", lost.len());
    server.stop().await
}
