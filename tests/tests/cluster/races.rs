//! What two nodes decide at the same moment settles once.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;

use baton_shared::conversation::read;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::operations::{ReplyMode, reply};
use baton_tests::postgres::{self, Backend};
use baton_tests::sync_client::SyncClient;
use baton_tests::{PASSWORD, Server, client, login};
use serde_json::{Value, json};

use crate::nodes::{Nodes, WAIT, converged, document, id_of, stored_notifications, workspace_of};

/// Rounds of the claim race.
const ROUNDS: usize = 20;

#[tokio::test]
async fn claims_made_at_once_on_two_nodes_settle_to_one_assignee_told_once() -> anyhow::Result<()> {
    // Each commit waits a little before it is made durable, so the two
    // nodes' commits overlap and one of them finds its copy stale.
    let nodes = Nodes::with(2, &[], &[("BATON_FAULT_COMMIT_DELAY_MS", "50")]).await?;
    let mut outcomes = Vec::new();
    for round in 0..ROUNDS {
        let doc = document(&nodes.conversation(round % 2, &format!("c{round}")).await?);
        // Fresh sockets each round: replies sent within moments of
        // connecting are judged as offline work, which both nodes accept
        // and the rules settle (a reply made long online, after the other
        // claim was visible, would be refused instead).
        let mut ana = nodes.agent(0, "ana@acme.test").await?;
        let mut ben = nodes.agent(1, "ben@acme.test").await?;
        ana.open_all(&[doc]).await?;
        ben.open_all(&[doc]).await?;
        let ws = workspace_of(&ana, &nodes);
        let (ana_id, ben_id) = (
            id_of(&ana, &nodes, "ana@acme.test"),
            id_of(&ana, &nodes, "ben@acme.test"),
        );
        let now = baton_shared::clock::now();
        // Who replied first alternates, so either node can be the winner.
        let (ana_at, ben_at) = if round % 2 == 0 {
            (now, now + 1)
        } else {
            (now + 1, now)
        };
        let msg = |who: &str| format!("{who} here, round {round}");
        reply(
            ana.docs.doc_mut(&doc).unwrap(),
            &ws,
            &ana_id,
            &msg("Ana"),
            ReplyMode::Claim,
            ana_at,
        )?;
        reply(
            ben.docs.doc_mut(&doc).unwrap(),
            &ws,
            &ben_id,
            &msg("Ben"),
            ReplyMode::Claim,
            ben_at,
        )?;
        ana.docs.sync(doc);
        ben.docs.sync(doc);
        // Both keep reading their sockets until the server holds their
        // reply: a first message may only ask for the server's heads.
        let docs = [doc];
        let (a, b) = tokio::join!(ana.acknowledged(&docs, WAIT), ben.acknowledged(&docs, WAIT));
        a?;
        b?;
        let winner = if ana_at < ben_at { &ana_id } else { &ben_id };
        if let Err(err) = settled(&mut ana, doc, winner, round).await {
            let view = ben.conversation(doc);
            anyhow::bail!(
                "{err:#}\nBen's refusals: {:?}, Ben holds {view:#?}\n{}",
                ben.refusals(),
                held_by_nodes(&nodes, doc).await
            );
        }
        if let Err(err) = settled(&mut ben, doc, winner, round).await {
            let view = ana.conversation(doc);
            anyhow::bail!(
                "{err:#}\nAna's refusals: {:?}, Ana holds {view:#?}\n{}",
                ana.refusals(),
                held_by_nodes(&nodes, doc).await
            );
        }
        converged(&mut ana, &mut ben, doc).await?;
        let conv = read(ana.docs.doc(&doc).unwrap())?;
        let settled = conv
            .activity
            .iter()
            .filter(|a| a.event.name() == "settled")
            .count();
        assert_eq!(settled, 1, "round {round}: settled {settled} times");
        outcomes.push((doc, conv.id.to_string(), winner.clone(), ana_at < ben_at));
    }

    // Every node's projection agrees with the documents.
    for node in 0..2 {
        let listed = baton_tests::get_json_as(
            nodes.node(node),
            "admin@acme.test",
            "/api/conversations?view=all&limit=200",
        )
        .await?;
        let rows: HashMap<String, Value> = listed["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].as_str().unwrap().to_owned(), c.clone()))
            .collect();
        for (_, conversation, winner, _) in &outcomes {
            assert_eq!(
                rows[conversation]["assignee"],
                winner.to_string(),
                "node {node}"
            );
        }
    }
    // The loser is told once (that it moved away, or that the other holds
    // it); the winner is told nothing of the kind; no notice is stored twice.
    let lost_kinds = ["moved_away", "lost"];
    let of = |rows: &[Value], doc: &str| -> usize {
        rows.iter()
            .filter(|n| {
                n["document"] == doc && lost_kinds.contains(&n["kind"].as_str().unwrap_or(""))
            })
            .count()
    };
    let ana_rows = stored_notifications(&nodes, 0, "ana@acme.test").await?;
    let ben_rows = stored_notifications(&nodes, 1, "ben@acme.test").await?;
    for (doc, _, _, ana_won) in &outcomes {
        let doc = doc.to_string();
        let (winner_rows, loser_rows) = if *ana_won {
            (&ana_rows, &ben_rows)
        } else {
            (&ben_rows, &ana_rows)
        };
        assert_eq!(of(loser_rows, &doc), 1, "the loser of {doc}");
        assert_eq!(of(winner_rows, &doc), 0, "the winner of {doc}");
    }
    for rows in [&ana_rows, &ben_rows] {
        let ids: std::collections::HashSet<_> = rows.iter().map(|n| n["id"].clone()).collect();
        assert_eq!(ids.len(), rows.len(), "a notification stored twice");
    }
    // The race was real: some commit found its copy stale and was redone.
    let mut redone = 0;
    for node in 0..2 {
        redone += nodes.health(node).await?["stale_retries"]
            .as_u64()
            .unwrap_or(0);
    }
    println!("{redone} changes redone on fresh state over {ROUNDS} rounds");
    assert!(
        redone > 0,
        "no commit ever collided: the race was not exercised"
    );
    Ok(())
}

/// What fresh clients of each node are given of `doc` (a failure's context).
async fn held_by_nodes(nodes: &Nodes, doc: DocumentId) -> String {
    let mut out = String::new();
    for node in 0..2 {
        let held = async {
            let mut c = nodes.agent(node, "admin@acme.test").await?;
            c.open_all(&[doc]).await?;
            c.idle(Duration::from_millis(300)).await?;
            let conv = read(c.docs.doc(&doc).unwrap())?;
            anyhow::Ok(format!(
                "{} messages, assignee {:?}, events {:?}",
                conv.messages.len(),
                conv.assignee(),
                conv.activity
                    .iter()
                    .map(|a| a.event.name())
                    .collect::<Vec<_>>()
            ))
        }
        .await;
        out.push_str(&format!("node {node} serves: {held:?}\n"));
    }
    out
}

/// Waits until `client` holds both replies and the one settlement.
async fn settled(
    client: &mut SyncClient,
    doc: DocumentId,
    winner: &AgentId,
    round: usize,
) -> anyhow::Result<()> {
    client
        .wait(WAIT, |c| {
            c.conversation(doc).is_some_and(|conv| {
                conv.messages.len() == 3
                    && conv.assignee() == Some(winner)
                    && conv.activity.iter().any(|a| a.event.name() == "settled")
            })
        })
        .await
        .with_context(|| {
            let view = client.conversation(doc);
            format!("round {round}: winner {winner}, the client holds {view:#?}")
        })
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() -> anyhow::Result<()> {
    let nodes = Nodes::start(2).await?;
    let admin = client();
    login(nodes.node(0), &admin, "admin@acme.test", PASSWORD).await?;
    let ana_id = nodes.team.agent("ana@acme.test")?.to_owned();
    let admin_id = nodes.team.agent("admin@acme.test")?.to_owned();
    let promoted = admin
        .patch(nodes.node(0).at(&format!("/api/agents/{ana_id}")))
        .json(&json!({ "role": "admin" }))
        .send()
        .await?;
    assert_eq!(promoted.status(), 200);
    let ana = client();
    login(nodes.node(1), &ana, "ana@acme.test", PASSWORD).await?;
    let demote = |who: &reqwest::Client, node: &Server, id: &str| {
        who.patch(node.at(&format!("/api/agents/{id}")))
            .json(&json!({ "role": "agent" }))
            .send()
    };
    let (first, second) = tokio::join!(
        demote(&admin, nodes.node(0), &ana_id),
        demote(&ana, nodes.node(1), &admin_id)
    );
    let mut statuses = vec![first?.status().as_u16(), second?.status().as_u16()];
    statuses.sort();
    // The loser is refused by the keep-an-admin rule (409) when both
    // passed the admin check, or as no longer an admin (403) when the
    // winner's commit came first.
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert!(matches!(statuses[1], 403 | 409), "{statuses:?}");
    let mut admins = 0;
    for (node, email) in [(1, "admin@acme.test"), (0, "ana@acme.test")] {
        let me = baton_tests::get_json_as(nodes.node(node), email, "/api/me").await?;
        admins += usize::from(me["agent"]["role"] == "admin");
    }
    assert_eq!(admins, 1, "exactly one admin remains");
    Ok(())
}

#[tokio::test]
async fn nodes_starting_together_on_an_empty_database_make_one_workspace() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let path = data.path().to_owned();
    let args = ["--demo", "--demo-conversations", "60", "--demo-rate", "0"];
    let start = || {
        let path = path.clone();
        async move { Server::start_within(&path, &args, Duration::from_secs(120)).await }
    };
    let (a, b, c) = tokio::join!(start(), start(), start());
    let nodes = [a?, b?, c?];
    let mut workspaces = Vec::new();
    for node in &nodes {
        let agent = client();
        let me = login(node, &agent, "alex@demo.baton.test", "baton-demo").await?;
        workspaces.push(me["workspace"].as_str().unwrap().to_owned());
        let all: Value = agent
            .get(node.at("/api/conversations?view=all&status=open&limit=200"))
            .send()
            .await?
            .json()
            .await?;
        let resolved: Value = agent
            .get(node.at("/api/conversations?view=all&status=resolved&limit=200"))
            .send()
            .await?
            .json()
            .await?;
        let count = all["conversations"].as_array().unwrap().len()
            + resolved["conversations"].as_array().unwrap().len();
        assert_eq!(count, 60, "seeded once, not once per node");
    }
    workspaces.dedup();
    assert_eq!(workspaces.len(), 1, "one workspace: {workspaces:?}");
    if postgres::backend() == Backend::Sqlite {
        println!("SQLite: three processes on one file took turns by a file lock");
    }
    Ok(())
}
