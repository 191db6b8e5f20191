//! Scenario 8: the live socket in a real browser. A signed-out page cannot
//! open `/sync`; a signed-in page of another origin (same host, another
//! port: the browser sends the session cookie) is refused for its Origin,
//! while the app's own origin connects.

use baton_tests::browser::app::{LOGIN_EMAIL, sign_in};
use baton_tests::browser::{Browser, WAIT, step, wait_for_value};
use baton_tests::proxy::Proxy;
use serde_json::json;

use crate::{ANA, Engines, Pair};

crate::in_chromium!(scenario_8_signed_out_pages_and_other_origins_cannot_reach_sync);

/// Opens a websocket to `url` from the page; answers "open" or "refused".
async fn probe_socket(browser: &Browser, url: &str) -> anyhow::Result<String> {
    browser
        .script(
            "window.__probe = 'pending';
             const socket = new WebSocket(arguments[0]);
             socket.onopen = () => { window.__probe = 'open'; socket.close(); };
             socket.onclose = () => {
                 if (window.__probe === 'pending') window.__probe = 'refused';
             };",
            vec![json!(url)],
        )
        .await?;
    let what = format!("the socket to {url} to open or be refused");
    let (answer, _) = wait_for_value(&what, WAIT, async || {
        let state = browser.script("return window.__probe", vec![]).await?;
        Ok(state
            .as_str()
            .filter(|s| *s != "pending")
            .map(str::to_owned))
    })
    .await?;
    Ok(answer)
}

async fn scenario_8_signed_out_pages_and_other_origins_cannot_reach_sync() -> anyhow::Result<()> {
    let pair = Pair::open("scenario-8", Engines::CHROMIUM).await?;
    let (ana, ben) = (&pair.ana, &pair.ben);
    let both = pair.both();
    let sync = format!("{}/sync", pair.server.url.replacen("http://", "ws://", 1));
    let elsewhere = Proxy::start(&pair.server.url).await?;

    step("scenario 8: a signed-out page is refused", &both, async {
        ben.goto("/").await?;
        ben.wait_for(LOGIN_EMAIL, WAIT).await?;
        let answer = probe_socket(ben, &sync).await?;
        anyhow::ensure!(answer == "refused", "signed out, /sync answered {answer}");
        Ok(())
    })
    .await?;

    step(
        "scenario 8: signed in, the app's own origin connects",
        &both,
        async {
            sign_in(ana, ANA).await?;
            let answer = probe_socket(ana, &sync).await?;
            anyhow::ensure!(
                answer == "open",
                "from its own origin, /sync answered {answer}"
            );
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 8: a page of another origin is refused though it carries the cookie",
        &both,
        async {
            ana.goto_url(&format!("{}/healthz", elsewhere.url)).await?;
            let answer = probe_socket(ana, &sync).await?;
            anyhow::ensure!(
                answer == "refused",
                "from another origin, /sync answered {answer}"
            );
            // Nor can that page read the API with Ana's cookie.
            let answer = ana
                .script_async(
                    "const done = arguments[arguments.length - 1];
                     fetch(arguments[0], { credentials: 'include' })
                        .then((r) => r.text()).then(() => done('read'), () => done('blocked'));",
                    vec![json!(pair.server.at("/api/me"))],
                )
                .await?;
            anyhow::ensure!(
                answer == json!("blocked"),
                "another origin read /api/me: {answer}"
            );
            Ok(())
        },
    )
    .await?;
    // The refused sockets are in the consoles, as they should be.
    pair.close().await
}
