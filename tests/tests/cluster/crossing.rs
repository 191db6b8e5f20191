//! What one node's agents do reaches the agents of another.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::Context;

use baton_shared::docset::Event;
use baton_shared::notify::NoticeKind;
use baton_shared::protocol::{Presence, PresenceState};
use baton_tests::postgres::{self, Backend};
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{PASSWORD, customer_writes, session_token};

use crate::nodes::{
    Nodes, WAIT, crossing_bound, document, id_of, stored_notifications, told, workspace_of,
};

#[tokio::test]
async fn a_reassign_on_one_node_reaches_agents_on_the_others_live() -> anyhow::Result<()> {
    let nodes = Nodes::start(3).await?;
    let doc = document(&nodes.conversation(0, "dana").await?);
    let mut ana = nodes.agent(0, "ana@acme.test").await?;
    let mut ben = nodes.agent(1, "ben@acme.test").await?;
    let mut ben_phone = nodes.agent(2, "ben@acme.test").await?;
    for client in [&mut ana, &mut ben, &mut ben_phone] {
        client.open_all(&[doc]).await?;
    }
    let ws = workspace_of(&ana, &nodes);
    let (ana_id, ben_id) = (
        id_of(&ana, &nodes, "ana@acme.test"),
        id_of(&ana, &nodes, "ben@acme.test"),
    );
    ana.reassign_now(doc, &ws, &ana_id, &ben_id)?;
    ana.docs.sync(doc);
    let start = Instant::now();
    ana.acknowledged(&[doc], WAIT).await?;
    for (name, client) in [("node B", &mut ben), ("node C", &mut ben_phone)] {
        client
            .wait(WAIT, |c| c.assignee(doc).as_ref() == Some(&ben_id))
            .await?;
        let took = start.elapsed();
        println!("a reassign on node A reached Ben on {name} after {took:?}");
        assert!(took <= crossing_bound(), "{name} took {took:?}");
        // Told through the outbox: once, on every node Ben is on.
        client
            .wait(WAIT, |c| told(c, NoticeKind::AssignedToYou, doc))
            .await?;
    }
    ben.idle(Duration::from_millis(500)).await?;
    let assigned: Vec<_> = ben
        .pushed()
        .into_iter()
        .filter(|n| n.kind == NoticeKind::AssignedToYou && n.document_id == doc)
        .collect();
    assert_eq!(assigned.len(), 1, "{assigned:?}");
    assert_eq!(assigned[0].text, "Ana assigned you “Question from dana”");
    Ok(())
}

#[tokio::test]
async fn a_client_that_moves_to_another_node_catches_up_on_everything() -> anyhow::Result<()> {
    let nodes = Nodes::start(2).await?;
    let mut landed = Vec::new();
    for i in 0..200 {
        landed.push(nodes.conversation(i % 2, &format!("c{i}")).await?);
    }
    let docs: Vec<_> = landed.iter().map(document).collect();
    let token = session_token(nodes.node(0), "admin@acme.test", PASSWORD).await?;
    let auth = Auth::Session(token);
    let mut client = SyncClient::connect(&nodes.node(0).url, &auth).await?;
    client.open_all(&docs).await?;
    client.caught_up().await?;

    for (round, (changes_on, back_to)) in [(1, 1), (0, 0)].into_iter().enumerate() {
        let since = client.docs.last_seq();
        let mut saved = client.disconnect().await;
        // While the client is away: customers write to a hundred of its
        // conversations through one node, and others keep both busy.
        let changed: Vec<_> = landed.iter().skip(round).step_by(2).collect();
        let busy = tokio::spawn(keep_busy(
            nodes.node(0).url.clone(),
            nodes.node(1).url.clone(),
            nodes.team.channel.clone(),
            nodes.team.secret.clone(),
        ));
        for to in &changed {
            customer_writes(nodes.node(changes_on), &nodes.team, "again", Some(to)).await?;
        }
        busy.abort();
        saved.resume_from(since);
        client = SyncClient::reconnect(&nodes.node(back_to).url, &auth, saved).await?;
        let listed = client.caught_up().await?;
        for to in &changed {
            assert!(
                listed.contains(&document(to)),
                "round {round}: {} missing from the catch-up on the other node",
                to.document
            );
        }
        let ids: Vec<_> = changed.iter().map(|to| document(to)).collect();
        for id in &ids {
            client.docs.sync(*id);
        }
        client
            .wait(WAIT, |c| {
                ids.iter().all(|id| {
                    c.conversation(*id)
                        .is_some_and(|conv| conv.messages.len() == 2)
                })
            })
            .await
            .with_context(|| format!("round {round}: the changes did not all apply"))?;
    }
    Ok(())
}

/// New conversations on both nodes, until aborted.
async fn keep_busy(a: String, b: String, channel: String, secret: String) {
    for n in 0.. {
        let url = if n % 2 == 0 { &a } else { &b };
        let body = serde_json::json!({
            "customer": { "email": format!("busy{n}@shop.example"), "name": "Busy" },
            "body": "More work",
        });
        let _ = reqwest::Client::new()
            .post(format!("{url}/api/channels/{channel}/messages"))
            .bearer_auth(&secret)
            .json(&body)
            .send()
            .await;
    }
}

#[tokio::test]
async fn a_bulk_reassign_across_nodes_is_one_notification_with_its_full_count() -> anyhow::Result<()>
{
    let nodes = Nodes::start(2).await?;
    let mut ana = nodes.agent(0, "ana@acme.test").await?;
    let mut ben = nodes.agent(1, "ben@acme.test").await?;
    let mut docs = Vec::new();
    for i in 0..50 {
        docs.push(document(
            &nodes.conversation(i % 2, &format!("c{i}")).await?,
        ));
    }
    ana.open_all(&docs).await?;
    let ws = workspace_of(&ana, &nodes);
    let ana_id = id_of(&ana, &nodes, "ana@acme.test");
    let ben_id = id_of(&ana, &nodes, "ben@acme.test");
    let reassigned = ana.bulk_reassign(&docs, &ws, &ana_id, &ben_id).await?;
    assert_eq!(reassigned, 50);
    ben.wait(WAIT, |c| {
        c.pushed_for_batches().last().is_some_and(|n| n.count == 50)
    })
    .await?;
    let ids: HashSet<_> = ben.pushed_for_batches().into_iter().map(|n| n.id).collect();
    assert_eq!(
        ids.len(),
        1,
        "one notification for the batch, updated in place"
    );
    for node in 0..2 {
        let rows: Vec<_> = stored_notifications(&nodes, node, "ben@acme.test")
            .await?
            .into_iter()
            .filter(|n| n["kind"] == "assigned_to_you")
            .collect();
        assert_eq!(rows.len(), 1, "node {node}: {rows:?}");
        assert_eq!(
            rows[0]["count"], 50,
            "node {node}: counted once, not per node"
        );
    }
    Ok(())
}

#[tokio::test]
async fn presence_crosses_nodes() -> anyhow::Result<()> {
    let nodes = Nodes::start(2).await?;
    let doc = document(&nodes.conversation(0, "dana").await?);
    // Presence is never stored: between processes it travels on
    // PostgreSQL's NOTIFY, and SQLite has no such channel.
    let ben_on = match postgres::backend() {
        Backend::Postgres => 1,
        Backend::Sqlite => {
            println!("SQLite: presence between processes needs PostgreSQL; checked on one node");
            0
        }
    };
    let mut ana = nodes.agent(0, "ana@acme.test").await?;
    let mut ben = nodes.agent(ben_on, "ben@acme.test").await?;
    ana.open_all(&[doc]).await?;
    ben.open_all(&[doc]).await?;
    let ana_id = id_of(&ana, &nodes, "ana@acme.test");
    for state in [PresenceState::Viewing, PresenceState::Typing] {
        let presence = Presence {
            agent: ana_id.clone(),
            state,
        };
        ana.docs.presence(doc, &presence);
        ana.flush().await?;
        ben.wait(WAIT, |c| {
            c.events.iter().any(|e| {
                matches!(e, Event::Presence { document, presence }
                    if *document == doc && presence.agent == ana_id && presence.state == state)
            })
        })
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn endings_decided_on_one_node_close_sockets_on_every_node() -> anyhow::Result<()> {
    let nodes = Nodes::start(2).await?;
    // Deactivated by an admin on node A: Ben's socket on node B closes.
    let mut ben = nodes.agent(1, "ben@acme.test").await?;
    let ben_id = id_of(&ben, &nodes, "ben@acme.test");
    let admin = baton_tests::client();
    baton_tests::login(nodes.node(0), &admin, "admin@acme.test", PASSWORD).await?;
    let start = Instant::now();
    let done = admin
        .post(
            nodes
                .node(0)
                .at(&format!("/api/agents/{ben_id}/deactivate")),
        )
        .send()
        .await?;
    assert_eq!(done.status(), 200);
    let _ = ben.wait(WAIT, |c| c.closed.is_some()).await;
    println!(
        "deactivation on node A closed Ben's socket on node B after {:?}",
        start.elapsed()
    );
    assert_eq!(ben.closed, Some(1008));
    assert!(start.elapsed() <= crossing_bound());

    // The command line is a process of its own: its deactivation reaches
    // the server's sockets the same way.
    let mut ana = nodes.agent(1, "ana@acme.test").await?;
    let start = Instant::now();
    let cli = baton_tests::baton(
        nodes.team.path(),
        &["agent", "deactivate", "--email", "ana@acme.test"],
    )
    .await?;
    assert!(cli.success, "{}", cli.stderr);
    let _ = ana.wait(WAIT, |c| c.closed.is_some()).await;
    assert_eq!(ana.closed, Some(1008));
    println!(
        "deactivation from the command line closed Ana's socket after {:?}",
        start.elapsed()
    );

    // Signing out on node A ends the same session's socket on node B.
    let token = session_token(nodes.node(0), "admin@acme.test", PASSWORD).await?;
    let mut tab = SyncClient::connect(&nodes.node(1).url, &Auth::Session(token.clone())).await?;
    let out = reqwest::Client::new()
        .post(nodes.node(0).at("/api/logout"))
        .header("cookie", format!("baton_session={token}"))
        .send()
        .await?;
    assert_eq!(out.status(), 204);
    let _ = tab.wait(WAIT, |c| c.closed.is_some()).await;
    assert_eq!(tab.closed, Some(1008));
    Ok(())
}

#[tokio::test]
async fn notifications_read_on_one_node_are_read_in_tabs_on_another() -> anyhow::Result<()> {
    let nodes = Nodes::start(2).await?;
    let mut tab_a = nodes.agent(0, "ben@acme.test").await?;
    let mut tab_b = nodes.agent(1, "ben@acme.test").await?;
    let doc = document(&nodes.conversation(0, "dana").await?);
    for tab in [&mut tab_a, &mut tab_b] {
        tab.wait(WAIT, |c| told(c, NoticeKind::NewMessage, doc))
            .await?;
    }
    let id = tab_a.pushed()[0].id.clone();
    tab_a.docs.notifications_read(vec![id.clone()]);
    tab_a.flush().await?;
    tab_b
        .wait(WAIT, |c| {
            c.events
                .iter()
                .any(|e| matches!(e, Event::NotificationsRead(ids) if ids.contains(&id)))
        })
        .await?;
    // A note by Ana on node B about the same conversation is not a new
    // message: nobody is told twice of the first one.
    let mut ana = nodes.agent(1, "ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let ws = workspace_of(&ana, &nodes);
    let ana_id = id_of(&ana, &nodes, "ana@acme.test");
    ana.note_now(doc, &ws, &ana_id, "fyi")?;
    ana.docs.sync(doc);
    ana.acknowledged(&[doc], WAIT).await?;
    tab_a.idle(Duration::from_millis(300)).await?;
    let new: Vec<_> = tab_a
        .pushed()
        .into_iter()
        .filter(|n| n.kind == NoticeKind::NewMessage && n.document_id == doc)
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    Ok(())
}
