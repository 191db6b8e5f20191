//! F12: the socket layer as a way to hold the server's memory or time: a
//! peer that stops reading, floods of tiny CBOR items, presence or
//! catch-up requests, and more connections or documents than anyone needs.

use std::time::{Duration, Instant};

use baton_shared::docset::Event;
use baton_shared::protocol::{Presence, PresenceState};
use baton_tests::sync_client::{Auth, SyncClient, open_socket};

use crate::scene::{Scene, WAIT, document, id_of, workspace_of};

#[tokio::test]
async fn a_frame_of_a_million_tiny_items_is_refused_unread() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let mut ana = scene.agent("ana@acme.test").await?;
    // A well-formed message whose list holds 500,000 empty texts: half a
    // megabyte on the wire, half a million allocations if decoded.
    let mut flood = vec![0xa4];
    for text in [
        "type",
        "baton/notification-read",
        "senderId",
        "a",
        "targetId",
        "b",
        "ids",
    ] {
        flood.push(0x78);
        flood.push(text.len() as u8);
        flood.extend(text.as_bytes());
    }
    flood.extend([0x9a, 0x00, 0x07, 0xa1, 0x20]);
    flood.extend(std::iter::repeat_n(0x60u8, 500_000));
    ana.send_raw(flood).await?;
    let _ = ana.wait(WAIT, |_| false).await;
    // Refused as malformed before it is decoded (not read, then refused).
    assert_eq!(ana.closed, Some(1007));
    Ok(())
}

#[tokio::test]
async fn an_agent_has_at_most_twenty_connections() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let token =
        baton_tests::session_token(&scene.server, "ana@acme.test", baton_tests::PASSWORD).await?;
    let auth = Auth::Session(token);
    let mut open = Vec::new();
    for _ in 0..20 {
        open.push(SyncClient::connect(&scene.server.url, &auth).await?);
    }
    assert_eq!(
        open_socket(&scene.server.url, &auth, None).await.err(),
        Some(429)
    );
    // Ben is not held back by Ana's connections.
    scene.agent("ben@acme.test").await?;
    open.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    SyncClient::connect(&scene.server.url, &auth).await?;
    Ok(())
}

#[tokio::test]
async fn a_connection_holds_a_bounded_number_of_documents() -> anyhow::Result<()> {
    let scene = Scene::with(&["--max-documents", "3"], &[]).await?;
    let mut docs = Vec::new();
    for customer in ["dana", "eve", "finn"] {
        docs.push(document(&scene.conversation(customer).await?));
    }
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&docs[..2]).await?;
    ana.docs.open(docs[2]);
    let _ = ana.wait(WAIT, |_| false).await;
    assert_eq!(ana.closed, Some(1008));
    Ok(())
}

#[tokio::test]
async fn catch_up_comes_in_pages_and_a_flood_of_requests_is_held_back() -> anyhow::Result<()> {
    let scene = Scene::with(&["--catch-up-page", "2"], &[]).await?;
    let mut docs = Vec::new();
    for customer in ["dana", "eve", "finn", "gus", "hal"] {
        docs.push(document(&scene.conversation(customer).await?));
    }
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.docs.catch_up();
    ana.wait(WAIT, |c| docs.iter().all(|d| c.docs.doc(d).is_some()))
        .await?;
    let pages = ana
        .events
        .iter()
        .filter(|e| matches!(e, Event::CaughtUp { .. }))
        .count();
    assert!(pages >= 3, "{pages} pages");
    for _ in 0..40 {
        ana.docs.catch_up();
    }
    ana.wait(WAIT, |c| {
        c.events
            .iter()
            .any(|e| matches!(e, Event::Refused { code, .. } if code == "rate_limited"))
    })
    .await?;
    ana.idle(Duration::from_millis(200)).await?;
    Ok(())
}

#[tokio::test]
async fn a_presence_flood_reaches_others_only_in_part() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let doc = document(&scene.conversation("dana").await?);
    let (mut ana, mut ben) = scene.ana_and_ben_holding(doc).await?;
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    for _ in 0..300 {
        ana.docs.presence(
            doc,
            &Presence {
                agent: ana_id.clone(),
                state: PresenceState::Typing,
            },
        );
    }
    ana.flush().await?;
    let _ = ben.idle(Duration::from_millis(800)).await;
    let heard = ben
        .events
        .iter()
        .filter(|e| matches!(e, Event::Presence { .. }))
        .count();
    assert!((1..=30).contains(&heard), "{heard} presence messages");
    Ok(())
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_cut_off_and_never_holds_shutdown() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let mut docs = Vec::new();
    for customer in ["dana", "eve", "finn", "gus"] {
        docs.push(document(&scene.conversation(customer).await?));
    }
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&docs).await?;
    let token =
        baton_tests::session_token(&scene.server, "admin@acme.test", baton_tests::PASSWORD).await?;
    let mut slow =
        SyncClient::connect_small_buffer(&scene.server.url, &Auth::Session(token)).await?;
    slow.open_all(&docs).await?;
    let ws = workspace_of(&ana, &scene);
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    // `slow` never reads again; Ana writes far more than its buffers hold.
    for i in 0..200 {
        let doc = docs[i % docs.len()];
        let body = format!("note {i} {}", "y".repeat(40_000));
        ana.note_now(doc, &ws, &ana_id, &body)?;
        ana.docs.sync(doc);
        ana.idle(Duration::from_millis(2)).await?;
    }
    ana.acknowledged(&docs, Duration::from_secs(60)).await?;
    let stopping = Instant::now();
    scene.server.stop().await?;
    println!(
        "stopped in {:?} with a peer that does not read",
        stopping.elapsed()
    );
    drop(slow);
    Ok(())
}
