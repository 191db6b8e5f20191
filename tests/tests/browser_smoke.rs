//! The app in real Chromium against the real server: two agents sign in, one
//! reassigns a conversation from the dropdown and the other sees it arrive;
//! an agent cut off by the proxy reloads and keeps working, then syncs.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use baton_tests::browser::app::{self, CONNECTION, OFFLINE_BANNER, ROW, option, row, sign_in};
use baton_tests::browser::{Browser, WAIT, step, wait_until};
use baton_tests::proxy::Proxy;
use baton_tests::{Server, Team, ingest};
use serde_json::json;

/// A customer writes in; returns the new conversation's id.
async fn customer_writes(team: &Team, server: &Server, n: usize) -> anyhow::Result<String> {
    let response = ingest(
        server,
        &team.channel,
        &team.secret,
        json!({
            "customer": {"email": format!("customer{n}@example.com"), "name": format!("Customer {n}")},
            "subject": format!("Question {n}"),
            "body": "Hello, I need help with my order.",
        }),
    )
    .await?;
    anyhow::ensure!(
        response.status() == 201,
        "ingest answered {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await?;
    Ok(body["conversation"].as_str().unwrap().to_owned())
}

/// An agent's id, from the row's data on the admin page is not needed: the
/// picker's options carry it, and names identify them.
async fn agent_option_for(browser: &Browser, name: &str) -> anyhow::Result<String> {
    let id = browser
        .script(
            "return [...document.querySelectorAll('[data-testid=reassign-option]')]
                .find((o) => o.textContent.includes(arguments[0]))?.dataset.agent || ''",
            vec![json!(name)],
        )
        .await?;
    Ok(id.as_str().unwrap_or_default().to_owned())
}

/// The bell's unread count.
async fn unread(browser: &Browser) -> anyhow::Result<u64> {
    let label = browser
        .attr("[data-testid=bell]", "aria-label")
        .await?
        .unwrap_or_default();
    Ok(label
        .split_whitespace()
        .find_map(|word| word.trim_end_matches(',').parse().ok())
        .unwrap_or(0))
}

#[tokio::test]
async fn sign_in_see_the_inbox_and_reassign_to_the_other_agent() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::with_app(team.path(), &[]).await?;
    let mut conversations = Vec::new();
    for n in 0..3 {
        conversations.push(customer_writes(&team, &server, n).await?);
    }
    let ana = Browser::open(&server.url, "smoke-ana").await?;
    let ben = Browser::open(&server.url, "smoke-ben").await?;
    let both = [&ana, &ben];

    step(
        "both agents sign in and see the unassigned conversations",
        &both,
        async {
            sign_in(&ana, "ana@acme.test").await?;
            sign_in(&ben, "ben@acme.test").await?;
            for id in &conversations {
                ana.wait_for(&row(id), WAIT).await?;
                ben.wait_for(&row(id), WAIT).await?;
            }
            assert_eq!(ana.text("[data-testid=count-unassigned]").await?, "3");
            ana.screenshot("inbox").await?;
            Ok(())
        },
    )
    .await?;

    let target = &conversations[1];
    step("Ana reassigns one to Ben from the dropdown", &both, async {
        app::view(&ben, "mine").await?;
        let unread_before = unread(&ben).await?;
        ana.click(&row(target)).await?;
        ana.click("[data-testid=reassign-button]").await?;
        ana.wait_for("[data-testid=reassign-option]", WAIT).await?;
        let ben_id = agent_option_for(&ana, "Ben").await?;
        assert!(ben_id.starts_with("agt_"), "Ben is in the dropdown");
        ana.click(&option(&ben_id)).await?;
        ana.screenshot("dropdown").await?;
        ana.click("[data-testid=assign-confirm]").await?;
        ana.wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
            .await?;
        let delay = wait_until("Ben's Mine to hold it", WAIT, async || {
            Ok(ben.count(&row(target)).await? == 1)
        })
        .await?;
        eprintln!("the reassign showed in Ben's Mine within {delay:?} of checking");
        wait_until("Ben's bell to count it", WAIT, async || {
            Ok(unread(&ben).await? > unread_before)
        })
        .await?;
        assert_eq!(ana.text("[data-testid=count-unassigned]").await?, "2");
        ben.screenshot("mine").await?;
        Ok(())
    })
    .await?;

    for browser in both {
        let errors = browser.console_errors().await?;
        // Signing in starts from a 401 on /api/me; nothing else may fail.
        let unexpected: Vec<_> = errors.iter().filter(|e| !e.contains("/api/me")).collect();
        assert!(
            unexpected.is_empty(),
            "console errors in {}: {unexpected:#?}",
            browser.label()
        );
    }
    ana.close().await?;
    ben.close().await?;
    server.stop().await
}

#[tokio::test]
async fn an_agent_cut_off_reloads_keeps_working_and_syncs_on_return() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::with_app(team.path(), &[]).await?;
    let conversation = customer_writes(&team, &server, 1).await?;
    let link = Proxy::start(&server.url).await?;
    let ben = Browser::open(&link.url, "smoke-offline").await?;
    let ben_ = [&ben];

    step("Ben signs in through his own link", &ben_, async {
        sign_in(&ben, "ben@acme.test").await?;
        ben.wait_for(&row(&conversation), WAIT).await?;
        // The service worker has kept the app shell once it controls the page.
        wait_until("the service worker to control the page", WAIT, async || {
            Ok(ben
                .script("return !!navigator.serviceWorker.controller", vec![])
                .await?
                .as_bool()
                .unwrap_or(false))
        })
        .await?;
        // And the documents are saved in IndexedDB.
        ben.wait_for(&format!("{CONNECTION}[data-saved=true]"), WAIT)
            .await?;
        Ok(())
    })
    .await?;

    step("cut off, a reload still opens the inbox", &ben_, async {
        link.cut();
        ben.wait_for(OFFLINE_BANNER, WAIT).await?;
        ben.reload().await?;
        ben.wait_for(&row(&conversation), WAIT).await?;
        ben.wait_for(OFFLINE_BANNER, WAIT).await?;
        ben.screenshot("offline-reloaded").await?;
        Ok(())
    })
    .await?;

    step(
        "offline, Ben replies and the row waits to sync",
        &ben_,
        async {
            ben.click(&row(&conversation)).await?;
            ben.type_into("[data-testid=reply-box]", "On it, from the train.")
                .await?;
            ben.click("[data-testid=reply-send]").await?;
            ben.wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
                .await?;
            app::view(&ben, "mine").await?;
            ben.wait_for(
                &format!("{} [data-testid=row-pending]", row(&conversation)),
                WAIT,
            )
            .await?;
            Ok(())
        },
    )
    .await?;

    step("back online, the change reaches the server", &ben_, async {
        link.restore();
        ben.wait_for_text(CONNECTION, "Live", Duration::from_secs(40))
            .await?;
        ben.wait_gone("[data-testid=row-pending]", WAIT).await?;
        assert_eq!(ben.count(ROW).await?, 1);
        Ok(())
    })
    .await?;

    // The server holds Ben's reply and his claim.
    let client = baton_tests::client();
    baton_tests::login(&server, &client, "ana@acme.test", baton_tests::PASSWORD).await?;
    let mine: serde_json::Value = client
        .get(server.at("/api/conversations?view=all"))
        .send()
        .await?
        .json()
        .await?;
    let listed = mine.to_string();
    assert!(listed.contains(&conversation), "{listed}");
    assert_eq!(
        mine["counts"]["unassigned"], 0,
        "Ben's reply claimed it: {listed}"
    );
    ben.close().await?;
    server.stop().await
}
