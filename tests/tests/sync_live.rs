//! Live sync between real clients and the real server: reassigns travel,
//! offline work converges by the rules, notifications reach the right people.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use anyhow::Context;
use automerge::sync;
use automerge::transaction::Transactable;
use automerge::{Change, ChangeHash, ROOT};
use baton_shared::conversation::read;
use baton_shared::docset::Event;
use baton_shared::ids::DocumentId;
use baton_shared::operations::{ReplyMode, note, reply};
use baton_shared::protocol::Message;
use baton_shared::workspace;
use baton_tests::scene::{Scene, WAIT};
use baton_tests::sync_client::SyncClient;
use baton_tests::{PASSWORD, get_json_as, ingest};
use serde_json::json;

/// A customer writes in with the subject "Help"; the new conversation.
async fn conversation(s: &Scene, customer: &str) -> anyhow::Result<DocumentId> {
    baton_tests::new_conversation(&s.server, &s.team, customer).await
}

/// The texts of the notifications pushed to `client` so far.
fn notifications(client: &SyncClient) -> Vec<String> {
    client.pushed().into_iter().map(|n| n.text).collect()
}

#[tokio::test]
async fn a_reassign_by_one_agent_reaches_the_other() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let doc = conversation(&s, "dana").await?;
    let (mut ana, mut ben) = s.ana_and_ben_holding(doc).await?;
    let ws = ana.workspace(s.workspace)?;
    let (ana_id, ben_id) = (
        ana.agent_id(s.workspace, "ana@acme.test")?,
        ana.agent_id(s.workspace, "ben@acme.test")?,
    );

    ana.reassign_now(doc, &ws, &ana_id, &ben_id)?;
    ana.docs.sync(doc);
    ana.flush().await?;
    let start = std::time::Instant::now();
    ben.wait(WAIT, |c| c.assignee(doc).as_ref() == Some(&ben_id))
        .await?;
    println!(
        "reassign visible to the other agent after {:?}",
        start.elapsed()
    );
    ben.wait(WAIT, |c| {
        notifications(c)
            .iter()
            .any(|t| t == "Ana assigned you “Help”")
    })
    .await?;
    assert!(ana.refusals().is_empty());
    Ok(())
}

#[tokio::test]
async fn offline_work_converges_and_the_loser_is_told() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let doc = conversation(&s, "dana").await?;
    let (ana, mut ben) = s.ana_and_ben_holding(doc).await?;
    let ws = ana.workspace(s.workspace)?;
    let ana_id = ana.agent_id(s.workspace, "ana@acme.test")?;
    let ben_id = ana.agent_id(s.workspace, "ben@acme.test")?;

    // Ana goes offline and replies (claiming); a little later Ben replies online.
    let mut offline = ana.disconnect().await;
    let now = baton_shared::clock::now();
    reply(
        offline.doc_mut(&doc).unwrap(),
        &ws,
        &ana_id,
        "Ana here",
        ReplyMode::Claim,
        now,
    )?;
    reply(
        ben.docs.doc_mut(&doc).unwrap(),
        &ws,
        &ben_id,
        "Ben here",
        ReplyMode::Claim,
        now + 500,
    )?;
    ben.docs.sync(doc);
    ben.flush().await?;
    ben.wait(WAIT, |c| c.assignee(doc).as_ref() == Some(&ben_id))
        .await?;

    // Ana reconnects: her earlier claim wins (first to reply), the server
    // settles the conflict and tells Ben he lost it.
    let mut ana = s.back_online("ana@acme.test", offline).await?;
    ana.docs.sync_all();
    ana.flush().await?;
    for client in [&mut ana, &mut ben] {
        client
            .wait(WAIT, |c| {
                c.conversation(doc).is_some_and(|conv| {
                    conv.assignments.len() == 1
                        && conv.assignee() == Some(&ana_id)
                        && conv.messages.len() == 3
                })
            })
            .await?;
    }
    let heads_a = ana.docs.doc(&doc).unwrap().clone().get_heads();
    ben.wait(WAIT, |c| {
        c.docs.doc(&doc).unwrap().clone().get_heads() == heads_a
    })
    .await?;
    // Whichever reached the server first, Ben hears that the conversation is Ana's.
    ben.wait(WAIT, |c| {
        notifications(c)
            .iter()
            .any(|t| t == "Ana moved “Help” to someone else" || t.starts_with("Ana holds “Help”"))
    })
    .await?;
    let settled = read(ben.docs.doc(&doc).unwrap())?;
    assert!(settled.activity.iter().any(|a| a.event.name() == "settled"));
    Ok(())
}

#[tokio::test]
async fn notifications_follow_the_assignment_rules() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let mut ana = s.agent("ana@acme.test").await?;
    let mut ben = s.agent("ben@acme.test").await?;
    let ws = ana.workspace(s.workspace)?;
    let ana_id = ana.agent_id(s.workspace, "ana@acme.test")?;
    let ben_id = ana.agent_id(s.workspace, "ben@acme.test")?;

    // Unassigned: every subscriber is told.
    let doc = conversation(&s, "dana").await?;
    ana.wait(WAIT, |c| notifications(c).len() == 1).await?;
    ben.wait(WAIT, |c| notifications(c).len() == 1).await?;

    // Ana replies first and owns it: the next message tells Ana alone.
    ana.open_all(&[doc]).await?;
    ana.reply_now(doc, &ws, &ana_id, "On it", ReplyMode::Claim)?;
    ana.settle(doc).await?;
    let body = json!({ "customer": { "email": "dana@shop.example", "name": "Dana" }, "body": "Thanks!", "conversation": read(ana.docs.doc(&doc).unwrap())?.id });
    assert_eq!(
        ingest(&s.server, &s.team.channel, &s.team.secret, body.clone())
            .await?
            .status(),
        201
    );
    ana.wait(WAIT, |c| notifications(c).len() == 2).await?;
    ben.idle(Duration::from_millis(500)).await?;
    assert_eq!(notifications(&ben).len(), 1, "Ben is no longer told");

    // Ana reassigns to Ben: Ben is told, Ana (the actor) is not.
    ana.reassign_now(doc, &ws, &ana_id, &ben_id)?;
    ana.settle(doc).await?;
    ben.wait(WAIT, |c| notifications(c).len() == 2).await?;
    assert_eq!(notifications(&ana).len(), 2);

    // "Reply and leave unassigned" keeps telling every subscriber.
    let other = conversation(&s, "eli").await?;
    ana.wait(WAIT, |c| notifications(c).len() == 3).await?;
    ben.wait(WAIT, |c| notifications(c).len() == 3).await?;
    ben.open_all(&[other]).await?;
    ben.reply_now(other, &ws, &ben_id, "Checking", ReplyMode::LeaveUnassigned)?;
    ben.settle(other).await?;
    let body = json!({ "customer": { "email": "eli@shop.example", "name": "Eli" }, "body": "Still there?", "conversation": read(ben.docs.doc(&other).unwrap())?.id });
    ingest(&s.server, &s.team.channel, &s.team.secret, body).await?;
    ana.wait(WAIT, |c| notifications(c).len() == 4).await?;
    ben.wait(WAIT, |c| notifications(c).len() == 4).await?;
    Ok(())
}

#[tokio::test]
async fn a_bulk_reassign_of_fifty_is_one_notification() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let mut ana = s.agent("ana@acme.test").await?;
    let mut ben = s.agent("ben@acme.test").await?;
    let mut docs = Vec::new();
    for i in 0..50 {
        docs.push(conversation(&s, &format!("c{i}")).await?);
    }
    ana.open_all(&docs).await?;
    ben.wait(WAIT, |c| notifications(c).len() == 50).await?;
    let ws = ana.workspace(s.workspace)?;
    let ana_id = ana.agent_id(s.workspace, "ana@acme.test")?;
    let ben_id = ana.agent_id(s.workspace, "ben@acme.test")?;
    let reassigned = ana.bulk_reassign(&docs, &ws, &ana_id, &ben_id).await?;
    assert_eq!(reassigned, 50);
    let waited = ben
        .wait(WAIT, |c| {
            c.pushed_for_batches().last().is_some_and(|n| n.count == 50)
        })
        .await;
    if let Err(err) = waited {
        let counts: Vec<u32> = ben.pushed_for_batches().iter().map(|n| n.count).collect();
        return Err(err.context(format!("the batch's counts as pushed: {counts:?}")));
    }
    let live = ben.pushed_for_batches();
    let ids: std::collections::HashSet<_> = live.iter().map(|n| n.id.clone()).collect();
    assert_eq!(ids.len(), 1, "one notification per batch, updated in place");
    assert_eq!(
        live.last().unwrap().text,
        "Ana assigned you 50 conversations"
    );
    let listed = get_json_as(&s.server, "ben@acme.test", "/api/notifications?limit=200").await?;
    let batch_rows: Vec<_> = listed["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "assigned_to_you")
        .collect();
    assert_eq!(batch_rows.len(), 1);
    assert_eq!(batch_rows[0]["count"], 50);
    assert_eq!(batch_rows[0]["text"], "Ana assigned you 50 conversations");
    Ok(())
}

#[tokio::test]
async fn presence_is_shared_and_speaks_for_the_signed_in_agent() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let doc = conversation(&s, "dana").await?;
    let (mut ana, mut ben) = s.ana_and_ben_holding(doc).await?;
    let ana_id = ana.agent_id(s.workspace, "ana@acme.test")?;
    let ben_id = ana.agent_id(s.workspace, "ben@acme.test")?;
    // Ben says he is typing, and even claims to be Ana: the server corrects it.
    let claim = baton_shared::protocol::Presence {
        agent: ana_id,
        state: baton_shared::protocol::PresenceState::Typing,
    };
    ben.docs.presence(doc, &claim);
    ben.flush().await?;
    ana.wait(WAIT, |c| {
        c.events.iter().any(|e| matches!(e, Event::Presence { document, presence } if *document == doc && presence.agent == ben_id && presence.state == baton_shared::protocol::PresenceState::Typing))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn unknown_documents_are_unavailable_and_the_projection_follows_sync() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let mut ana = s.agent("ana@acme.test").await?;
    let nowhere = DocumentId::random();
    ana.docs.open(nowhere);
    ana.wait(WAIT, |c| c.events.contains(&Event::Unavailable(nowhere)))
        .await?;

    let doc = conversation(&s, "dana").await?;
    ana.open_all(&[doc]).await?;
    let ws = ana.workspace(s.workspace)?;
    let ana_id = ana.agent_id(s.workspace, "ana@acme.test")?;
    ana.reply_now(doc, &ws, &ana_id, "Mine now", ReplyMode::Claim)?;
    ana.settle(doc).await?;
    let mine = get_json_as(&s.server, "ana@acme.test", "/api/conversations?view=mine").await?;
    assert_eq!(mine["conversations"][0]["preview"], "Mine now");
    assert_eq!(mine["counts"]["mine"], 1);
    Ok(())
}

#[tokio::test]
async fn shutdown_closes_sockets_with_going_away() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let mut ana = s.agent("ana@acme.test").await?;
    let Scene { server, team, .. } = s;
    let stopping = tokio::spawn(server.stop());
    let _ = ana.wait(WAIT, |_| false).await;
    assert_eq!(ana.closed, Some(1001));
    stopping.await??;
    drop(team);
    Ok(())
}

#[tokio::test]
async fn changes_made_by_the_command_line_reach_connected_agents() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let mut ana = s.agent("ana@acme.test").await?;
    baton_tests::baton_json(
        s.team.path(),
        &["agent", "add", "--email", "cy@acme.test", "--name", "Cy"],
    )
    .await?;
    let ws_id = s.workspace;
    ana.wait(WAIT, |c| {
        workspace::read(c.docs.doc(&ws_id).unwrap())
            .unwrap()
            .agents
            .values()
            .any(|a| a.email == "cy@acme.test")
    })
    .await?;
    Ok(())
}

/// A sync message carrying `changes`, as a peer whose heads are `heads`
/// would send it.
fn raw_sync(doc: DocumentId, heads: Vec<ChangeHash>, changes: &[&Change]) -> Message {
    let chunks = changes.iter().map(|c| c.raw_bytes().to_vec()).collect();
    baton_tests::sync_client::raw_sync(doc, heads, chunks)
}

fn message_count(client: &SyncClient, doc: DocumentId) -> usize {
    client.conversation(doc).unwrap().messages.len()
}

/// A peer skips a change the server's bloom filter wrongly claims it has and
/// sends the next one, which then arrives before its parent. The server keeps
/// it, asks for the parent, and applies both once the parent comes (a peer
/// never resends what it counts as sent, so dropping it would stall the
/// document for good).
#[tokio::test]
async fn a_change_sent_before_its_parent_waits_for_it() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let doc = conversation(&s, "dana").await?;
    let (mut ana, mut ben) = s.ana_and_ben_holding(doc).await?;
    let ws = ana.workspace(s.workspace)?;
    let ana_id = ana.agent_id(s.workspace, "ana@acme.test")?;
    let before = message_count(&ben, doc);

    let mut copy = ana.docs.doc_mut(&doc).unwrap().fork();
    note(&mut copy, &ws, &ana_id, "first", baton_shared::clock::now())?;
    let parent = copy.get_last_local_change().unwrap();
    note(
        &mut copy,
        &ws,
        &ana_id,
        "second",
        baton_shared::clock::now(),
    )?;
    let child = copy.get_last_local_change().unwrap();

    ana.send(&raw_sync(doc, vec![child.hash()], &[&child]))
        .await?;
    ana.wait(WAIT, |c| {
        c.last_sync.get(&doc).is_some_and(|data| {
            sync::Message::decode(data).is_ok_and(|m| m.need.contains(&parent.hash()))
        })
    })
    .await
    .context("the server did not ask for the missing parent")?;
    ben.idle(Duration::from_millis(200)).await?;
    assert_eq!(message_count(&ben, doc), before, "nothing applies early");

    ana.send(&raw_sync(doc, vec![child.hash()], &[&parent]))
        .await?;
    ben.wait(WAIT, |c| message_count(c, doc) == before + 2)
        .await?;
    assert!(ana.refusals().is_empty(), "{:?}", ana.refusals());
    Ok(())
}

/// Changes waiting for a parent are held in memory, so a peer may park only
/// so many of them (1 MiB) before the server closes its socket.
#[tokio::test]
async fn changes_parked_beyond_the_limit_close_the_socket() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let doc = conversation(&s, "dana").await?;
    let mut ana = s.agent("ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let mut copy = ana.docs.doc_mut(&doc).unwrap().fork();
    copy.put(ROOT, "gap", "never sent")?;
    copy.commit();
    // Hex of a pseudo-random stream: it does not compress below half.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut noise = |len: usize| -> String {
        (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                char::from_digit(((seed >> 33) % 16) as u32, 16).unwrap()
            })
            .collect()
    };
    // Each change stays under the size limit of one change (256 KiB).
    for i in 0..8 {
        copy.put(ROOT, format!("junk{i}"), noise(200_000))?;
        copy.commit();
        let change = copy.get_last_local_change().unwrap();
        if ana
            .send(&raw_sync(doc, vec![change.hash()], &[&change]))
            .await
            .is_err()
        {
            break;
        }
        let _ = ana
            .wait(Duration::from_millis(500), |c| c.closed.is_some())
            .await;
        if ana.closed.is_some() {
            break;
        }
    }
    let _ = ana.wait(WAIT, |c| c.closed.is_some()).await;
    assert_eq!(ana.closed, Some(1008));
    Ok(())
}

/// Marking notifications read over HTTP tells the agent's open tabs, as
/// marking them over a socket does: one path for both.
#[tokio::test]
async fn marking_read_over_http_tells_the_agents_open_tabs() -> anyhow::Result<()> {
    let s = Scene::new().await?;
    let mut tab = s.agent("ben@acme.test").await?;
    conversation(&s, "dana").await?;
    tab.wait(WAIT, |c| {
        c.events.iter().any(|e| matches!(e, Event::Notification(_)))
    })
    .await?;
    let id = tab
        .events
        .iter()
        .find_map(|e| match e {
            Event::Notification(n) => Some(n.id.clone()),
            _ => None,
        })
        .unwrap();
    let http = baton_tests::client();
    baton_tests::login(&s.server, &http, "ben@acme.test", PASSWORD).await?;
    let marked = http
        .post(s.server.at("/api/notifications/read"))
        .json(&json!({ "ids": [id.clone()] }))
        .send()
        .await?;
    assert_eq!(marked.status(), 200);
    tab.wait(WAIT, |c| {
        c.events
            .iter()
            .any(|e| matches!(e, Event::NotificationsRead(ids) if ids.contains(&id)))
    })
    .await
    .context("the open tab was not told")?;
    Ok(())
}
