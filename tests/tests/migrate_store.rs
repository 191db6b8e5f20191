//! Moving a SQLite deployment to PostgreSQL with `baton migrate-store`:
//! everything comes along, and positions clients kept (catch-up, replies
//! to deliver) stay valid on the new database.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{
    PASSWORD, Server, Team, baton_on_own_database, customer_writes, get_json_as, postgres,
    session_token,
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

#[tokio::test]
async fn a_sqlite_deployment_moves_to_postgresql_and_clients_keep_their_place() -> anyhow::Result<()>
{
    // A team on SQLite, whatever the suite's backend.
    let team = Team::on_database(tempfile::tempdir()?, &[]).await?;
    let sqlite = Server::start_on(team.path(), &[], &[], &[], WAIT * 6).await?;
    let mut landed = Vec::new();
    for i in 0..20 {
        landed.push(customer_writes(&sqlite, &team, &format!("c{i}"), None).await?);
    }
    let token = session_token(&sqlite, "ana@acme.test", PASSWORD).await?;
    let mut ana = SyncClient::connect(&sqlite.url, &Auth::Session(token)).await?;
    ana.caught_up().await?;
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
    assert_eq!(copied["tables"]["agents"], team.agents.len());
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
        ana.caught_up().await?.is_empty(),
        "nothing changed since its position"
    );
    customer_writes(&pg, &team, "c0", Some(&landed[0])).await?;
    let listed = ana.caught_up().await?;
    let changed: baton_shared::ids::DocumentId = landed[0].document.parse()?;
    assert_eq!(listed, vec![changed]);
    assert!(ana.docs.last_seq() > position);
    Ok(())
}
