//! Scenario 9: Ben turns off notifications for the channel in Settings;
//! the next unassigned customer message there tells Ana only.

use baton_shared::ids::{AgentId, ChannelId};
use baton_shared::workspace;
use baton_tests::browser::{Browser, WAIT, step};
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{PASSWORD, customer_writes, session_token, workspace_document};
use serde_json::json;

use crate::{ANA, BEN, Engines, Pair, told, told_exactly};

crate::in_chromium!(scenario_9_an_agent_who_unsubscribes_is_no_longer_told);

/// Whether the checkbox at `css` is on.
async fn is_checked(browser: &Browser, css: &str) -> anyhow::Result<bool> {
    let on = browser
        .script(
            "return document.querySelector(arguments[0]).checked",
            vec![json!(css)],
        )
        .await?;
    Ok(on == json!(true))
}

async fn scenario_9_an_agent_who_unsubscribes_is_no_longer_told() -> anyhow::Result<()> {
    let pair = Pair::signed_in("scenario-9", Engines::CHROMIUM).await?;
    let (ana, ben) = (&pair.ana, &pair.ben);
    let both = pair.both();
    let channel = &pair.team.channel;
    let toggle = format!("[data-testid=subscription][data-channel='{channel}']");

    step(
        "scenario 9: Ben turns the channel off in Settings",
        &both,
        async {
            ben.goto("/#/settings").await?;
            ben.wait_for("[data-testid=settings]", WAIT).await?;
            anyhow::ensure!(is_checked(ben, &toggle).await?, "Ben starts subscribed");
            ben.click(&format!("label.switch:has({toggle})")).await?;
            anyhow::ensure!(!is_checked(ben, &toggle).await?, "the switch turned off");
            ben.screenshot("unsubscribed").await?;
            Ok(())
        },
    )
    .await?;

    step("scenario 9: the server holds Ben's choice", &both, async {
        let token = session_token(&pair.server, ANA, PASSWORD).await?;
        let mut watcher = SyncClient::connect(&pair.server.url, &Auth::Session(token)).await?;
        let id = workspace_document(&pair.server).await?;
        watcher.open_all(&[id]).await?;
        let channel: ChannelId = channel.parse()?;
        let ben_id: AgentId = pair.team.agent(BEN)?.parse()?;
        watcher
            .wait(WAIT, |c| {
                c.docs
                    .doc(&id)
                    .and_then(|d| workspace::read(d).ok())
                    .is_some_and(|w| !w.subscribers(&channel).any(|a| *a == ben_id))
            })
            .await?;
        Ok(())
    })
    .await?;

    step(
        "scenario 9: the next unassigned customer message tells Ana only",
        &both,
        async {
            let vic = customer_writes(&pair.server, &pair.team, "vic", None).await?;
            told(ana, &vic.document, 1).await?;
            told_exactly(&pair, ben, BEN, &vic.document, 0).await?;
            Ok(())
        },
    )
    .await?;
    pair.finish().await
}
