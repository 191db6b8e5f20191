//! Restarts keep everything; `kill -9` loses nothing acknowledged;
//! deactivating an agent revokes access and hands their work back.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use baton_tests::{PASSWORD, Server, Team, baton_json, client, ingest, login};
use serde_json::{Value, json};

fn message(i: usize) -> Value {
    json!({ "customer": { "email": format!("c{i}@shop.example"), "name": format!("Customer {i}") }, "subject": format!("Order {i}"), "body": "Where is it?" })
}

async fn all_conversations(server: &Server, agent: &reqwest::Client) -> anyhow::Result<Vec<Value>> {
    let mut rows = Vec::new();
    let mut cursor = String::new();
    loop {
        let page: Value = agent
            .get(server.at(&format!("/api/conversations?view=all&limit=200{cursor}")))
            .send()
            .await?
            .json()
            .await?;
        rows.extend(
            page["conversations"]
                .as_array()
                .cloned()
                .unwrap_or_default(),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return Ok(rows),
        }
    }
}

#[tokio::test]
async fn a_restart_keeps_conversations_sessions_and_notifications() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    for i in 0..5 {
        assert_eq!(
            ingest(&server, &team.channel, &team.secret, message(i))
                .await?
                .status(),
            201
        );
    }
    let ana = client();
    login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    server.stop().await?;

    let server = Server::start(team.path(), &[]).await?;
    let rows = all_conversations(&server, &ana).await?;
    assert_eq!(
        rows.len(),
        5,
        "the same session still works after a restart"
    );
    let notes: Value = ana
        .get(server.at("/api/notifications"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(notes["unread"], 5);
    // Appending to a conversation from before the restart works.
    let mut more = message(0);
    more["conversation"] = rows[0]["id"].clone();
    assert_eq!(
        ingest(&server, &team.channel, &team.secret, more)
            .await?
            .status(),
        201
    );
    server.stop().await
}

#[tokio::test]
async fn kill_9_during_ingest_loses_nothing_acknowledged() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let url = server.at(&format!("/api/channels/{}/messages", team.channel));
    let (acked_tx, mut acked_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    // Four writers stream messages until the server dies under them.
    let mut writers = Vec::new();
    for w in 0..4 {
        let (url, secret, acked) = (url.clone(), team.secret.clone(), acked_tx.clone());
        writers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0.. {
                let sent = http
                    .post(&url)
                    .bearer_auth(&secret)
                    .json(&message(w * 100_000 + i))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => {
                        let body: Value = r.json().await.unwrap_or_default();
                        if let Some(id) = body["conversation"].as_str() {
                            let _ = acked.send(id.to_owned());
                        }
                    }
                    _ => return,
                }
            }
        }));
    }
    drop(acked_tx);
    // Kill once a good number have been acknowledged (condition, not a fixed sleep).
    let mut acked = Vec::new();
    while acked.len() < 150 {
        match tokio::time::timeout(Duration::from_secs(30), acked_rx.recv()).await? {
            Some(id) => acked.push(id),
            None => break,
        }
    }
    server.kill_hard().await?;
    for writer in writers {
        writer.await?;
    }
    while let Ok(id) = acked_rx.try_recv() {
        acked.push(id);
    }
    assert!(acked.len() >= 150, "only {} acknowledged", acked.len());

    let server = Server::start(team.path(), &[]).await?;
    let ana = client();
    login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    let stored: std::collections::HashSet<String> = all_conversations(&server, &ana)
        .await?
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
    println!(
        "kill -9: {} acknowledged, {} stored, {} lost",
        acked.len(),
        stored.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    server.stop().await
}

#[tokio::test]
async fn deactivating_an_agent_revokes_access_and_unassigns_their_work() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let server = Server::start(data.path(), &["--demo", "--demo-rate", "0"]).await?;
    let email = "ben@demo.baton.test";
    let ben = client();
    login(&server, &ben, email, "baton-demo").await?;
    let token = baton_json(data.path(), &["token", "create", "--email", email]).await?;
    let token = token["token"].as_str().unwrap().to_owned();
    let mine: Value = ben
        .get(server.at("/api/conversations?view=mine&limit=200"))
        .send()
        .await?
        .json()
        .await?;
    let held: Vec<String> = mine["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!held.is_empty(), "Ben holds conversations in the demo");

    let done = baton_json(data.path(), &["agent", "deactivate", "--email", email]).await?;
    assert_eq!(done["unassigned"], held.len());

    assert_eq!(
        ben.get(server.at("/api/me")).send().await?.status(),
        401,
        "session revoked"
    );
    let by_token = reqwest::Client::new()
        .get(server.at("/api/me"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(by_token.status(), 401, "token revoked");
    let relogin = reqwest::Client::new()
        .post(server.at("/api/login"))
        .json(&json!({ "email": email, "password": "baton-demo" }))
        .send()
        .await?;
    assert_eq!(relogin.status(), 401);

    let alex = client();
    login(&server, &alex, "alex@demo.baton.test", "baton-demo").await?;
    let rows = all_conversations(&server, &alex).await?;
    for id in &held {
        let row = rows
            .iter()
            .find(|r| r["id"] == id.as_str())
            .expect("still listed");
        assert_eq!(row["assignee"], Value::Null, "{id} is unassigned now");
    }
    // The channels' subscribers were told (Alex is subscribed to every channel).
    let notes: Value = alex
        .get(server.at("/api/notifications?limit=200"))
        .send()
        .await?
        .json()
        .await?;
    let unassigned = notes["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "left_unassigned")
        .count();
    assert!(unassigned > 0);
    server.stop().await
}
