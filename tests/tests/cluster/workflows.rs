//! Workflows run once across nodes; one node sweeps at a time.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use baton_shared::ids::DocumentId;
use baton_shared::workflow::{Step, Trigger, Workflow};
use baton_shared::workspace;
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{Server, client, login, session_token};
use serde_json::Value;

use crate::nodes::{Nodes, WAIT, id_of, stored_notifications, workspace_of};

/// Saves `workflow` into the workspace over `admin`'s socket.
async fn save(
    admin: &mut SyncClient,
    workspace: DocumentId,
    workflow: &Workflow,
) -> anyhow::Result<()> {
    let now = baton_shared::clock::now();
    workspace::put_workflow(admin.docs.doc_mut(&workspace).unwrap(), workflow, now)?;
    admin.docs.sync(workspace);
    admin.settle(workspace).await?;
    assert!(admin.refusals().is_empty(), "{:?}", admin.refusals());
    Ok(())
}

async fn runs(node: &Server, email: &str, password: &str) -> anyhow::Result<Vec<Value>> {
    let agent = client();
    login(node, &agent, email, password).await?;
    let listed: Value = agent
        .get(node.at("/api/workflows/runs?limit=200"))
        .send()
        .await?
        .json()
        .await?;
    Ok(listed["runs"].as_array().cloned().unwrap_or_default())
}

#[tokio::test]
async fn round_robin_takes_turns_across_nodes_once_per_conversation() -> anyhow::Result<()> {
    let nodes = Nodes::start(2).await?;
    let mut admin = nodes.agent(0, "admin@acme.test").await?;
    let ws = workspace_of(&admin, &nodes);
    let ana = id_of(&admin, &nodes, "ana@acme.test");
    let ben = id_of(&admin, &nodes, "ben@acme.test");
    let mut workflow = Workflow::new("Take turns", Trigger::ConversationCreated, &ws);
    workflow.steps = vec![Step::RoundRobin {
        agents: vec![ana.clone(), ben.clone()],
    }];
    save(&mut admin, nodes.workspace, &workflow).await?;
    // Both nodes see the workflow before customers write.
    for node in 0..2 {
        let mut watcher = nodes.agent(node, "admin@acme.test").await?;
        watcher
            .wait(WAIT, |c| !workspace_of(c, &nodes).workflows.is_empty())
            .await?;
    }
    // Four customers at a time, alternating nodes.
    let mut writes = tokio::task::JoinSet::new();
    for lane in 0..4 {
        let (a, b) = (nodes.node(0).url.clone(), nodes.node(1).url.clone());
        let (channel, secret) = (nodes.team.channel.clone(), nodes.team.secret.clone());
        writes.spawn(async move {
            for n in 0..10 {
                let url = if (lane + n) % 2 == 0 { &a } else { &b };
                let body = serde_json::json!({
                    "customer": { "email": format!("c{lane}-{n}@shop.example"), "name": "C" },
                    "body": "Hello",
                });
                let answer = reqwest::Client::new()
                    .post(format!("{url}/api/channels/{channel}/messages"))
                    .bearer_auth(&secret)
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    answer.status() == 201,
                    "ingest answered {}",
                    answer.status()
                );
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = writes.join_next().await {
        done??;
    }
    let listed = runs(nodes.node(1), "admin@acme.test", baton_tests::PASSWORD).await?;
    assert_eq!(listed.len(), 40, "one run per new conversation");
    let keys: HashSet<_> = listed.iter().map(|r| r["key"].clone()).collect();
    assert_eq!(keys.len(), 40);
    let all = baton_tests::get_json_as(
        nodes.node(0),
        "admin@acme.test",
        "/api/conversations?view=all&limit=200",
    )
    .await?;
    let mut held: HashMap<String, usize> = HashMap::new();
    for row in all["conversations"].as_array().unwrap() {
        *held
            .entry(row["assignee"].as_str().unwrap_or("nobody").to_owned())
            .or_default() += 1;
    }
    let (a, b) = (held[&ana.to_string()], held[&ben.to_string()]);
    println!("round-robin across two nodes gave Ana {a} and Ben {b}");
    assert_eq!(a + b, 40);
    assert!(
        a.abs_diff(b) <= 1,
        "turns were given twice: Ana {a}, Ben {b}"
    );
    // Each assignment told its agent once.
    let mut told = 0;
    for email in ["ana@acme.test", "ben@acme.test"] {
        let rows = stored_notifications(&nodes, 0, email).await?;
        told += rows
            .iter()
            .filter(|n| n["kind"] == "assigned_to_you")
            .map(|n| n["count"].as_u64().unwrap_or(0))
            .sum::<u64>();
    }
    assert_eq!(told, 40);
    Ok(())
}

#[tokio::test]
async fn one_node_sweeps_and_another_takes_over_when_it_dies() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let demo = [
        "--demo",
        "--demo-conversations",
        "50",
        "--demo-rate",
        "0",
        "--sweep-every",
        "1",
    ];
    let first = Server::start_within(data.path(), &demo, Duration::from_secs(120)).await?;
    let second = Server::start(data.path(), &["--sweep-every", "1"]).await?;
    let password = "baton-demo";
    let workspace: DocumentId = {
        let me = login(&first, &client(), "alex@demo.baton.test", password).await?;
        me["workspace"].as_str().unwrap().parse()?
    };
    let token = session_token(&first, "alex@demo.baton.test", password).await?;
    let mut admin = SyncClient::connect(&first.url, &Auth::Session(token)).await?;
    admin.open_all(&[workspace]).await?;
    let ws = workspace::read(admin.docs.doc(&workspace).unwrap())?;
    let ben = ws.agent_by_email("ben@demo.baton.test").unwrap().id.clone();
    let unassigned = unassigned_count(&first, password).await?;
    assert!(unassigned > 0, "the demo has conversations waiting");
    let mut workflow = Workflow::new(
        "Waiting a minute",
        Trigger::UnassignedFor { minutes: 1 },
        &ws,
    );
    workflow.steps = vec![Step::Assign { agent: ben }];
    save(&mut admin, workspace, &workflow).await?;

    // Every waiting conversation is assigned, each by one run.
    let deadline = Instant::now() + Duration::from_secs(30);
    while unassigned_count(&second, password).await? > 0 {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the sweep did not assign them all"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let made = runs(&second, "alex@demo.baton.test", password).await?;
    let swept: Vec<_> = made
        .iter()
        .filter(|r| r["workflow"]["name"] == "Waiting a minute")
        .collect();
    assert_eq!(swept.len(), unassigned, "one run per waiting conversation");
    let per_conversation: HashSet<_> = swept.iter().map(|r| r["conversation"].clone()).collect();
    assert_eq!(
        per_conversation.len(),
        swept.len(),
        "a conversation swept twice"
    );

    // Exactly one node leads; when it dies the other takes over.
    let leaders = |servers: &[&Server]| {
        let urls: Vec<String> = servers.iter().map(|s| s.at("/healthz")).collect();
        async move {
            let mut leading = Vec::new();
            for url in urls {
                let health: Value = reqwest::get(url).await?.json().await?;
                leading.push(health["leader"] == true);
            }
            anyhow::Ok(leading)
        }
    };
    let now = leaders(&[&first, &second]).await?;
    assert_eq!(now.iter().filter(|l| **l).count(), 1, "{now:?}");
    let (leader, survivor) = if now[0] {
        (first, second)
    } else {
        (second, first)
    };
    leader.kill_hard().await?;
    let killed = Instant::now();
    loop {
        if leaders(&[&survivor]).await?[0] {
            break;
        }
        anyhow::ensure!(
            killed.elapsed() < Duration::from_secs(3),
            "no node took over the sweep within three sweeps"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "the sweep moved to the surviving node after {:?}",
        killed.elapsed()
    );
    Ok(())
}

async fn unassigned_count(node: &Server, password: &str) -> anyhow::Result<usize> {
    let agent = client();
    login(node, &agent, "alex@demo.baton.test", password).await?;
    let listed: Value = agent
        .get(node.at("/api/conversations?view=unassigned&limit=200"))
        .send()
        .await?
        .json()
        .await?;
    Ok(listed["conversations"].as_array().map_or(0, Vec::len))
}
