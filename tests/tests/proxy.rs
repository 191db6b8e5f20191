//! The harness's per-agent proxy against the real server: HTTP and live sync
//! pass through; `cut` drops open sockets and refuses new connections, and
//! after `restore` a client reconnects and receives what it missed.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use baton_shared::workspace;
use baton_tests::proxy::Proxy;
use baton_tests::sync_client::{Auth, SyncClient, open_socket};
use baton_tests::{PASSWORD, Server, Team, baton_json, session_token, workspace_document};

const WAIT: Duration = Duration::from_secs(10);

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_cut_drops_the_socket_and_refuses_connections_until_restored() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let proxy = Proxy::start(&server.url).await?;
    let health = http().get(proxy.at("/healthz")).send().await?;
    assert_eq!(health.status(), 200, "HTTP passes through");

    let ws_id = workspace_document(&server).await?;
    let auth = Auth::Session(session_token(&server, "ana@acme.test", PASSWORD).await?);
    let mut ana = SyncClient::connect(&proxy.url, &auth).await?;
    ana.open_all(&[ws_id]).await?;
    assert!(proxy.open_connections() >= 1);

    proxy.cut();
    assert!(proxy.is_cut());
    ana.wait(WAIT, |c| c.closed.is_some()).await?;
    assert_eq!(ana.closed, Some(1006), "dropped, not closed by the server");
    assert!(
        http().get(proxy.at("/healthz")).send().await.is_err(),
        "new connections are refused while cut"
    );
    assert!(SyncClient::connect(&proxy.url, &auth).await.is_err());

    // The team changes while Ana is offline.
    baton_json(
        team.path(),
        &[
            "agent",
            "add",
            "--email",
            "cleo@acme.test",
            "--name",
            "Cleo",
        ],
    )
    .await?;

    proxy.restore();
    let mut ana = SyncClient::reconnect(&proxy.url, &auth, ana.disconnect().await).await?;
    ana.docs.sync(ws_id);
    ana.wait(WAIT, |c| {
        let ws = workspace::read(c.docs.doc(&ws_id).unwrap()).unwrap();
        ws.agent_by_email("cleo@acme.test").is_some()
    })
    .await?;
    server.stop().await
}

#[tokio::test]
async fn a_page_served_through_the_proxy_may_open_sync() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let proxy = Proxy::start(&server.url).await?;
    let auth = Auth::Session(session_token(&server, "ben@acme.test", PASSWORD).await?);
    // A browser sends the address it loaded the page from as Origin and Host.
    let socket = open_socket(&proxy.url, &auth, Some(&proxy.url)).await;
    assert!(socket.is_ok(), "refused with {:?}", socket.err());
    let foreign = open_socket(&proxy.url, &auth, Some("http://elsewhere.example")).await;
    assert_eq!(foreign.err(), Some(403));
    server.stop().await
}
