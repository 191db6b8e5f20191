//! A stock automerge-repo client (node, npm packages pinned by
//! `tests/interop/package-lock.json`) syncs with Baton using an API token:
//! it reads a conversation, its honest change is merged and seen by a Baton
//! client, its forged change is refused.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use baton_shared::conversation::read;
use baton_shared::ids::DocumentId;
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{PASSWORD, Server, Team, baton_json, ingest, session_token};
use serde_json::{Value, json};

fn interop_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/interop"))
}

async fn stock_client(
    url: &str,
    document: DocumentId,
    agent: &str,
    mode: &str,
) -> anyhow::Result<Value> {
    let out = tokio::process::Command::new("node")
        .arg("stock-client.mjs")
        .args([url, &document.to_string(), agent, mode])
        .current_dir(interop_dir())
        .output()
        .await?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .last()
        .context("the stock client printed nothing")?;
    serde_json::from_str(line)
        .with_context(|| format!("{stdout} {}", String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn a_stock_automerge_repo_client_syncs_and_is_held_to_the_rules() -> anyhow::Result<()> {
    baton_tests::npm_install(interop_dir(), "@automerge/automerge-repo")?;
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let token = baton_json(
        team.path(),
        &["token", "create", "--email", "ana@acme.test"],
    )
    .await?;
    let ana_id = token["agent"].as_str().unwrap().to_owned();
    let token = token["token"].as_str().unwrap().to_owned();
    let body = json!({ "customer": { "email": "dana@shop.example", "name": "Dana" }, "subject": "Interop", "body": "Hello" });
    let landed: Value = ingest(&server, &team.channel, &team.secret, body)
        .await?
        .json()
        .await?;
    let doc: DocumentId = landed["document"].as_str().unwrap().parse()?;
    let url = format!(
        "{}/sync?token={token}",
        server.url.replacen("http://", "ws://", 1)
    );

    let session = session_token(&server, "ben@acme.test", PASSWORD).await?;
    let mut ben = SyncClient::connect(&server.url, &Auth::Session(session)).await?;
    ben.open_all(&[doc]).await?;

    let honest = stock_client(&url, doc, &ana_id, "honest").await?;
    assert_eq!(honest["subject"], "Interop", "{honest}");
    assert_eq!(honest["messages"], 1);
    ben.wait(Duration::from_secs(10), |c| {
        read(c.docs.doc(&doc).unwrap())
            .unwrap()
            .messages
            .iter()
            .any(|m| m.body == "Written by a stock automerge-repo client")
    })
    .await?;

    let forged = stock_client(&url, doc, &ana_id, "forged").await?;
    assert_eq!(forged["changed"], "forged", "{forged}");
    ben.idle(Duration::from_millis(500)).await?;
    assert_eq!(
        read(ben.docs.doc(&doc).unwrap())?.channel.as_str(),
        team.channel,
        "the forged change was not forwarded"
    );
    let session = session_token(&server, "admin@acme.test", PASSWORD).await?;
    let mut fresh = SyncClient::connect(&server.url, &Auth::Session(session)).await?;
    fresh.open_all(&[doc]).await?;
    assert_eq!(
        read(fresh.docs.doc(&doc).unwrap())?.channel.as_str(),
        team.channel,
        "nor stored"
    );
    server.stop().await
}
