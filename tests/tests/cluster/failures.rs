//! A node killed under load, or PostgreSQL restarted under it, loses
//! nothing acknowledged; the survivors keep serving.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use baton_shared::conversation::read;
use baton_shared::ids::DocumentId;
use baton_shared::operations::note;
use baton_tests::postgres::Started;
use baton_tests::scene::signed_in;
use baton_tests::sync_client::SyncClient;
use baton_tests::{Server, Team, client, login};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::nodes::{Nodes, WAIT, document, id_of, workspace_of};

/// Conversations customers opened and the server acknowledged (201).
type Acked = Arc<Mutex<Vec<String>>>;

/// Posts new conversations to `url` until `stop`; records what was
/// acknowledged and every other answer's status (0: no answer in time).
async fn customers(
    url: String,
    channel: String,
    secret: String,
    acked: Acked,
    refused: Arc<Mutex<Vec<u16>>>,
    stop: watch::Receiver<bool>,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    for n in 0.. {
        if *stop.borrow() {
            return;
        }
        let body = json!({
            "customer": { "email": format!("load{n}@shop.example"), "name": "Load" },
            "body": "Hello",
        });
        let sent = http
            .post(format!("{url}/api/channels/{channel}/messages"))
            .bearer_auth(&secret)
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status() == 201 => {
                let landed: Value = answer.json().await.unwrap_or_default();
                if let Some(id) = landed["conversation"].as_str() {
                    acked.lock().unwrap().push(id.to_owned());
                }
            }
            Ok(answer) => {
                refused.lock().unwrap().push(answer.status().as_u16());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) if err.is_timeout() => refused.lock().unwrap().push(0),
            // The node is gone: this customer stops writing to it.
            Err(_) => return,
        }
    }
}

/// Every conversation `node` lists (all pages, open ones).
async fn listed(node: &Server, email: &str, password: &str) -> anyhow::Result<HashSet<String>> {
    let agent = client();
    login(node, &agent, email, password).await?;
    let mut all = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = node.at("/api/conversations?view=all&limit=200");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page: Value = agent.get(url).send().await?.json().await?;
        for row in page["conversations"].as_array().into_iter().flatten() {
            all.insert(row["id"].as_str().unwrap_or_default().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(all),
        }
    }
}

/// Ana's notes on `docs`, one after another, each recorded once the node
/// acknowledged it; ends when the node is gone.
async fn notes(
    mut ana: SyncClient,
    nodes_ws: baton_shared::workspace::Workspace,
    ana_id: baton_shared::ids::AgentId,
    docs: Vec<DocumentId>,
    acked: Arc<Mutex<Vec<(DocumentId, String)>>>,
) {
    for n in 0.. {
        let doc = docs[n % docs.len()];
        let text = format!("note {n}");
        let now = baton_shared::clock::now();
        if note(
            ana.docs.doc_mut(&doc).unwrap(),
            &nodes_ws,
            &ana_id,
            &text,
            now,
        )
        .is_err()
        {
            return;
        }
        ana.docs.sync(doc);
        if ana
            .acknowledged(&[doc], Duration::from_secs(5))
            .await
            .is_err()
        {
            return;
        }
        acked.lock().unwrap().push((doc, text));
    }
}

#[tokio::test]
async fn a_node_killed_under_load_loses_nothing_acknowledged() -> anyhow::Result<()> {
    let mut nodes = Nodes::start(2).await?;
    let (stop, stopped) = watch::channel(false);
    let acked: Acked = Arc::default();
    let refused: Arc<Mutex<Vec<u16>>> = Arc::default();
    let mut load = tokio::task::JoinSet::new();
    for node in [0, 0, 1, 1] {
        load.spawn(customers(
            nodes.node(node).url.clone(),
            nodes.team.channel.clone(),
            nodes.team.secret.clone(),
            acked.clone(),
            refused.clone(),
            stopped.clone(),
        ));
    }
    // Ana writes notes through node A, four conversations over.
    let mut shared = Vec::new();
    for i in 0..4 {
        shared.push(document(
            &nodes.conversation(i % 2, &format!("s{i}")).await?,
        ));
    }
    let mut ana = nodes.agent(0, "ana@acme.test").await?;
    ana.open_all(&shared).await?;
    let ws = workspace_of(&ana, &nodes);
    let ana_id = id_of(&ana, &nodes, "ana@acme.test");
    let noted: Arc<Mutex<Vec<(DocumentId, String)>>> = Arc::default();
    let writer = tokio::spawn(notes(
        ana,
        ws.clone(),
        ana_id,
        shared.clone(),
        noted.clone(),
    ));

    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 150 || noted.lock().unwrap().len() < 10 {
        anyhow::ensure!(Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nodes.kill(0).await?;
    let killed = Instant::now();
    let _ = writer.await;
    // Node B keeps taking customers a moment longer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(true)?;
    while load.join_next().await.is_some() {}

    // Everything acknowledged is on node B.
    let on_b = listed(nodes.node(1), "admin@acme.test", baton_tests::PASSWORD).await?;
    let acked = acked.lock().unwrap().clone();
    let missing: Vec<_> = acked.iter().filter(|id| !on_b.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged lost: {missing:?}",
        missing.len(),
        acked.len()
    );
    let mut ben = nodes.agent(1, "ben@acme.test").await?;
    ben.open_all(&shared).await?;
    let noted = noted.lock().unwrap().clone();
    for (doc, text) in &noted {
        let conv = read(ben.docs.doc(doc).unwrap())?;
        assert!(conv.messages.iter().any(|m| &m.body == text), "{text} lost");
    }
    // Node A's open transaction died with it: node B changes the same
    // conversations at once.
    let ben_id = id_of(&ben, &nodes, "ben@acme.test");
    for doc in &shared {
        ben.note_now(*doc, &ws, &ben_id, "after the crash")?;
        ben.docs.sync(*doc);
    }
    ben.acknowledged(&shared, Duration::from_secs(5)).await?;
    println!(
        "{} ingests and {} notes acknowledged before the kill; node B wrote to A's conversations {:?} after it",
        acked.len(),
        noted.len(),
        killed.elapsed()
    );
    // Node A comes back and serves what node B has.
    nodes.restart(0).await?;
    let on_a = listed(nodes.node(0), "admin@acme.test", baton_tests::PASSWORD).await?;
    assert_eq!(
        on_a,
        listed(nodes.node(1), "admin@acme.test", baton_tests::PASSWORD).await?
    );
    let mut again = nodes.agent(0, "ana@acme.test").await?;
    again.open_all(&shared).await?;
    for doc in &shared {
        let conv = read(again.docs.doc(doc).unwrap())?;
        assert!(conv.messages.iter().any(|m| m.body == "after the crash"));
    }
    Ok(())
}

#[tokio::test]
async fn a_postgresql_restart_under_load_loses_nothing_acknowledged() -> anyhow::Result<()> {
    // A cluster of its own: restarting the shared one would cut every
    // other test running beside this one.
    let pg = Started::private().await?;
    let url = pg.database("baton").await?;
    let database = ["--database-url".to_owned(), url.clone()];
    let team = Team::on_database(tempfile::tempdir()?, &database).await?;
    let (channel, secret) = (team.channel.clone(), team.secret.clone());
    let start = || Server::start_on(team.path(), &database, &[], &[], Duration::from_secs(60));
    let nodes = [start().await?, start().await?];

    let (stop, stopped) = watch::channel(false);
    let acked: Acked = Arc::default();
    let refused: Arc<Mutex<Vec<u16>>> = Arc::default();
    let mut load = tokio::task::JoinSet::new();
    for node in &nodes {
        load.spawn(customers(
            node.url.clone(),
            channel.clone(),
            secret.clone(),
            acked.clone(),
            refused.clone(),
            stopped.clone(),
        ));
    }
    let count = || acked.lock().unwrap().len();
    while count() < 40 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pg.restart(Duration::from_secs(2)).await?;
    let back = count();
    let restarted = Instant::now();
    // Both nodes reconnect by themselves and take customers again.
    while count() < back + 40 {
        anyhow::ensure!(
            restarted.elapsed() < Duration::from_secs(60),
            "the nodes did not take customers again within a minute"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "customers acknowledged again {:?} after PostgreSQL came back",
        restarted.elapsed()
    );
    stop.send(true)?;
    while load.join_next().await.is_some() {}
    // Meanwhile they were told to come back later, never left hanging.
    let refused = refused.lock().unwrap().clone();
    assert!(!refused.is_empty(), "no request met the restart");
    assert!(
        refused.iter().all(|s| *s == 503),
        "answers while PostgreSQL was down: {refused:?}"
    );
    let acked = acked.lock().unwrap().clone();
    for node in &nodes {
        let held = listed(node, "admin@acme.test", baton_tests::PASSWORD).await?;
        let missing = acked.iter().filter(|id| !held.contains(*id)).count();
        assert_eq!(missing, 0, "{missing} of {} acknowledged lost", acked.len());
    }
    // Live sync crosses nodes again: the listeners reconnected.
    let workspace = baton_tests::workspace_document(&nodes[0]).await?;
    let mut ana = signed_in(&nodes[0], "ana@acme.test", workspace).await?;
    let mut ben = signed_in(&nodes[1], "ben@acme.test", workspace).await?;
    let landed: Value = reqwest::Client::new()
        .post(nodes[0].at(&format!("/api/channels/{channel}/messages")))
        .bearer_auth(&secret)
        .json(&json!({ "customer": { "email": "after@shop.example", "name": "After" }, "body": "Hi" }))
        .send()
        .await?
        .json()
        .await?;
    let doc: DocumentId = landed["document"].as_str().unwrap().parse()?;
    ana.open_all(&[doc]).await?;
    ben.open_all(&[doc]).await?;
    let ws = ana.workspace(workspace)?;
    let ana_id = ana.agent_id(workspace, "ana@acme.test")?;
    let ben_id = ana.agent_id(workspace, "ben@acme.test")?;
    ana.reassign_now(doc, &ws, &ana_id, &ben_id)?;
    ana.docs.sync(doc);
    ana.acknowledged(&[doc], WAIT).await?;
    ben.wait(WAIT, |c| c.assignee(doc).as_ref() == Some(&ben_id))
        .await?;
    Ok(())
}
