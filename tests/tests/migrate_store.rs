//! Moving a SQLite deployment to PostgreSQL with `baton migrate-store`:
//! everything comes along, and positions clients kept (catch-up, replies
//! to deliver) stay valid on the new database.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use baton_shared::docset::Event;
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{
    PASSWORD, Server, baton_on_own_database, customer_writes, get_json_as, postgres, session_token,
};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(10);

async fn cli(data: &std::path::Path, args: &[&str]) -> anyhow::Result<Value> {
    let mut all = args.to_vec();
    all.push("--json");
    let out = baton_on_own_database(data, &all).await?;
    anyhow::ensure!(out.success, "baton {args:?}: {}", out.stderr);
    out.json()
}

/// The documents a catch-up from the client's position lists.
async fn catch_up(client: &mut SyncClient) -> anyhow::Result<Vec<baton_shared::ids::DocumentId>> {
    let from = client.events.len();
    client.docs.catch_up();
    client
        .wait(WAIT, |c| {
            c.events[from..]
                .iter()
                .any(|e| matches!(e, Event::CaughtUp { seq, .. } if *seq > 0))
        })
        .await?;
    Ok(client.events[from..]
        .iter()
        .filter_map(|e| match e {
            Event::CaughtUp { seq, documents } if *seq > 0 => Some(documents.clone()),
            _ => None,
        })
        .flatten()
        .collect())
}

#[tokio::test]
async fn a_sqlite_deployment_moves_to_postgresql_and_clients_keep_their_place() -> anyhow::Result<()>
{
    // A team on SQLite, whatever the suite's backend.
    let old = tempfile::tempdir()?;
    for (email, admin) in [("admin@acme.test", true), ("ana@acme.test", false)] {
        let mut args = vec![
            "agent",
            "add",
            "--email",
            email,
            "--name",
            email,
            "--password",
            PASSWORD,
        ];
        if admin {
            args.push("--admin");
        }
        cli(old.path(), &args).await?;
    }
    let channel = cli(old.path(), &["channel", "add", "--name", "Email"]).await?;
    let team = baton_tests::Team {
        channel: channel["id"].as_str().unwrap().to_owned(),
        secret: channel["secret"].as_str().unwrap().to_owned(),
        data: old,
        agents: Vec::new(),
    };
    let sqlite = Server::start_on(team.path(), &[], &[], &[], WAIT * 6).await?;
    let mut landed = Vec::new();
    for i in 0..20 {
        landed.push(customer_writes(&sqlite, &team, &format!("c{i}"), None).await?);
    }
    let token = session_token(&sqlite, "ana@acme.test", PASSWORD).await?;
    let mut ana = SyncClient::connect(&sqlite.url, &Auth::Session(token)).await?;
    catch_up(&mut ana).await?;
    let position = ana.docs.last_seq();
    assert!(position > 0);
    let saved = ana.disconnect().await;
    let before = get_json_as(
        &sqlite,
        "admin@acme.test",
        "/api/conversations?view=all&limit=200",
    )
    .await?;
    sqlite.stop().await?;

    // Copied into an empty PostgreSQL database.
    let target = tempfile::tempdir()?;
    let url = postgres::database_for(target.path()).await?;
    let from = format!("sqlite://{}", team.path().join("baton.db").display());
    let copied = cli(
        team.path(),
        &["migrate-store", "--from", &from, "--to", &url],
    )
    .await?;
    assert_eq!(copied["tables"]["agents"], 2);
    assert_eq!(copied["tables"]["conversations"], 20);
    assert!(copied["seq"].as_u64().unwrap() >= position);
    // A second copy into the same database is refused: it holds a workspace.
    let again = baton_on_own_database(
        team.path(),
        &["migrate-store", "--from", &from, "--to", &url],
    )
    .await?;
    assert!(!again.success);
    assert!(
        again.stderr.contains("copy into an empty database"),
        "{}",
        again.stderr
    );

    let database = ["--database-url".to_owned(), url];
    let pg = Server::start_on(target.path(), &database, &[], &[], WAIT * 6).await?;
    let after = get_json_as(
        &pg,
        "admin@acme.test",
        "/api/conversations?view=all&limit=200",
    )
    .await?;
    assert_eq!(after["conversations"], before["conversations"]);
    // The client comes back with its old position: nothing new to fetch,
    // and what changes from now on comes after it.
    let token = session_token(&pg, "ana@acme.test", PASSWORD).await?;
    let mut ana = SyncClient::reconnect(&pg.url, &Auth::Session(token), saved).await?;
    assert!(
        catch_up(&mut ana).await?.is_empty(),
        "nothing changed since its position"
    );
    customer_writes(&pg, &team, "c0", Some(&landed[0])).await?;
    let listed = catch_up(&mut ana).await?;
    let changed: baton_shared::ids::DocumentId = landed[0].document.parse()?;
    assert_eq!(listed, vec![changed]);
    assert!(ana.docs.last_seq() > position);
    Ok(())
}
