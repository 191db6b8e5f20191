//! The app in real Chromium against the real server: it boots and reaches
//! the server, and two agents' browsers run side by side, one through a
//! proxy that can take it offline.
//!
//! The app team extends this into sign-in → inbox → reassign with the
//! markup's test ids: `login-email`, `login-password`, `login-submit`,
//! `inbox-row[data-conversation]`, `reassign-button`,
//! `reassign-option[data-agent]`, `assign-confirm`, `row-assignee`.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use baton_tests::browser::{Browser, WAIT, step, wait_until};
use baton_tests::proxy::Proxy;
use baton_tests::{PASSWORD, Server, Team};
use serde_json::json;

const SERVER_STATUS: &str = "[data-testid=server-status]";

#[tokio::test]
async fn the_app_boots_in_chromium_and_reaches_the_server() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::with_app(team.path(), &[]).await?;
    let browser = Browser::open(&server.url, "smoke-boot").await?;
    step("the app boots and reaches the server", &[&browser], async {
        browser.goto("/").await?;
        let took = browser
            .wait_for_text(SERVER_STATUS, "Server: ok", WAIT)
            .await?;
        eprintln!("the boot page answered in {took:?}");
        browser.screenshot("booted").await?;
        let errors = browser.console_errors().await?;
        assert!(errors.is_empty(), "console errors: {errors:#?}");
        Ok(())
    })
    .await?;
    browser.close().await?;
    server.stop().await
}

/// Signs in from the page with `fetch` and opens `/sync` as the app will;
/// `window.syncState` follows the socket: `open`, then `closed <code>`.
const OPEN_SYNC: &str = r#"
const [email, password, done] = arguments;
fetch('/api/login', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email, password }),
}).then((response) => {
  if (!response.ok) { done('sign-in answered ' + response.status); return; }
  window.syncState = 'connecting';
  const socket = new WebSocket(location.origin.replace(/^http/, 'ws') + '/sync');
  socket.onopen = () => { window.syncState = 'open'; };
  socket.onclose = (event) => { window.syncState = 'closed ' + event.code; };
  done('ok');
}).catch((error) => done('sign-in failed: ' + error));
"#;

async fn sync_state(browser: &Browser) -> anyhow::Result<String> {
    let state = browser
        .script("return window.syncState || ''", vec![])
        .await?;
    Ok(state.as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn two_agents_browse_at_once_and_a_proxy_takes_one_offline() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::with_app(team.path(), &[]).await?;
    let ben_link = Proxy::start(&server.url).await?;
    let ana = Browser::open(&server.url, "smoke-ana").await?;
    let ben = Browser::open(&ben_link.url, "smoke-ben").await?;
    let both = [&ana, &ben];

    step("both agents' apps boot", &both, async {
        ana.goto("/").await?;
        ben.goto("/").await?;
        ana.wait_for_text(SERVER_STATUS, "Server: ok", WAIT).await?;
        ben.wait_for_text(SERVER_STATUS, "Server: ok", WAIT).await?;
        Ok(())
    })
    .await?;

    step(
        "a page served through the proxy opens /sync",
        &both,
        async {
            let started = ben
                .driver()?
                .execute_async(OPEN_SYNC, vec![json!("ben@acme.test"), json!(PASSWORD)])
                .await?;
            assert_eq!(started.json(), &json!("ok"));
            wait_until("Ben's socket to open", WAIT, async || {
                Ok(sync_state(&ben).await? == "open")
            })
            .await?;
            Ok(())
        },
    )
    .await?;

    step(
        "a cut closes Ben's socket and his page cannot load",
        &both,
        async {
            ben_link.cut();
            wait_until("Ben's socket to close", WAIT, async || {
                Ok(sync_state(&ben).await?.starts_with("closed"))
            })
            .await?;
            ben.reload().await?;
            assert!(
                ben.find_displayed(SERVER_STATUS).await?.is_none(),
                "nothing loads while cut"
            );
            ben.screenshot("offline").await?;
            // Ana's browser does not go through Ben's link.
            ana.reload().await?;
            ana.wait_for_text(SERVER_STATUS, "Server: ok", WAIT).await?;
            Ok(())
        },
    )
    .await?;

    step("after restore Ben's app boots again", &both, async {
        ben_link.restore();
        ben.goto("/").await?;
        ben.wait_for_text(SERVER_STATUS, "Server: ok", WAIT).await?;
        Ok(())
    })
    .await?;
    ana.close().await?;
    ben.close().await?;
    server.stop().await
}
