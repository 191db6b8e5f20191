//! Scenario 5: Ana's network is cut (her own proxy). Offline she reassigns
//! three conversations (two in bulk, one from the dropdown) and replies to
//! an unassigned one that Ben, online, has just claimed by replying; she
//! reloads the moment each action shows done, still offline, and keeps her
//! inbox, her pending changes and her bell (IndexedDB, and the service
//! worker for the page). Back online both browsers agree on the rule's
//! answer — the earlier claim, Ben's — and Ana is told what changed.

use std::time::Duration;

use baton_tests::browser::app::{
    CONNECTION, OFFLINE_BANNER, ROW, notices_about, reassign_to, row, sign_in, view,
};
use baton_tests::browser::{Browser, WAIT, step, wait_until};
use baton_tests::proxy::Proxy;
use baton_tests::{Server, Team, assignee_on_server, customer_writes};

use crate::{ANA, BEN, Engines};

/// How long a selection takes to show: it is local, so longer means the
/// click did not select.
const SETTLE: Duration = Duration::from_secs(5);

crate::in_every_engine!(scenario_5_offline_changes_survive_a_reload_and_converge_on_the_rule);

fn pending(conversation: &str) -> String {
    format!("{} [data-testid=row-pending]", row(conversation))
}

/// Waits until every row of `conversations` shows, each marked pending or not.
async fn rows_marked(
    browser: &Browser,
    conversations: &[&str],
    marked: bool,
) -> anyhow::Result<()> {
    for conversation in conversations {
        browser.wait_for(&row(conversation), WAIT).await?;
        if marked {
            browser.wait_for(&pending(conversation), WAIT).await?;
        } else {
            browser.wait_gone(&pending(conversation), WAIT).await?;
        }
    }
    Ok(())
}

async fn scenario_5_offline_changes_survive_a_reload_and_converge_on_the_rule(
    engines: Engines,
) -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::with_app(team.path(), &[]).await?;
    let mut landed = Vec::new();
    for n in 0..4 {
        landed.push(customer_writes(&server, &team, &format!("offline{n}"), None).await?);
    }
    let moved: Vec<&str> = landed[..3]
        .iter()
        .map(|l| l.conversation.as_str())
        .collect();
    let contested = landed[3].conversation.as_str();
    let ben_id = team.agent(BEN)?;
    // One link per agent; only Ana's is cut.
    let ana_link = Proxy::start(&server.url).await?;
    let ben_link = Proxy::start(&server.url).await?;
    let ana = engines.open(&ana_link.url, "scenario-5", "ana").await?;
    let ben = engines.open(&ben_link.url, "scenario-5", "ben").await?;
    let both = [&ana, &ben];

    step(
        "scenario 5: both sign in and Ana's browser keeps the inbox",
        &both,
        async {
            sign_in(&ana, ANA).await?;
            sign_in(&ben, BEN).await?;
            view(&ana, "unassigned").await?;
            view(&ben, "unassigned").await?;
            for l in &landed {
                ana.wait_for(&row(&l.conversation), WAIT).await?;
            }
            wait_until(
                "the service worker to control Ana's page",
                WAIT,
                async || {
                    Ok(ana
                        .script("return !!navigator.serviceWorker.controller", vec![])
                        .await?
                        .as_bool()
                        .unwrap_or(false))
                },
            )
            .await?;
            for l in &landed {
                crate::told(&ana, &l.document, 1).await?;
            }
            ana.wait_for(&format!("{CONNECTION}[data-saved=true]"), WAIT)
                .await?;
            Ok(())
        },
    )
    .await?;

    step("scenario 5: Ana's network is cut", &both, async {
        ana_link.cut();
        ana.wait_for(OFFLINE_BANNER, WAIT).await?;
        Ok(())
    })
    .await?;

    step(
        "scenario 5: Ben, online, claims a conversation by replying",
        &both,
        async {
            ben.click(&row(contested)).await?;
            ben.type_into("[data-testid=reply-box]", "Ben here, looking now.")
                .await?;
            ben.click("[data-testid=reply-send]").await?;
            ben.wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
                .await?;
            wait_until("the server to hold Ben's claim", WAIT, async || {
                Ok(assignee_on_server(&server, contested).await?.as_deref() == Some(ben_id))
            })
            .await?;
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 5: offline, Ana reassigns two to Ben in bulk",
        &both,
        async {
            for (n, conversation) in moved[..2].iter().enumerate() {
                // The bulk bar opens above the rows after the first: a click
                // as the list moves can land on the row (WebKit), which opens
                // the conversation and selects nothing; it is clicked again.
                let count = format!("{} selected", n + 1);
                let select = format!("{} [data-testid=row-select]", row(conversation));
                let mut tries = 0;
                loop {
                    ana.click(&select).await?;
                    let counted = ana
                        .wait_for_text("[data-testid=bulk-count]", &count, SETTLE)
                        .await;
                    tries += 1;
                    match counted {
                        Ok(_) => break,
                        Err(err) if tries == 3 => return Err(err),
                        Err(_) => continue,
                    }
                }
            }
            reassign_to(&ana, ben_id, true).await?;
            view(&ana, "all").await?;
            rows_marked(&ana, &moved[..2], true).await
        },
    )
    .await?;

    step(
        "scenario 5: offline, Ana reassigns a third from the dropdown and reloads at once",
        &both,
        async {
            ana.click(&row(moved[2])).await?;
            reassign_to(&ana, ben_id, false).await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
                .await?;
            ana.reload().await?;
            ana.wait_for(OFFLINE_BANNER, WAIT).await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
                .await?;
            view(&ana, "all").await?;
            rows_marked(&ana, &moved, true).await
        },
    )
    .await?;

    step(
        "scenario 5: offline, Ana replies to the fourth and reloads at once",
        &both,
        async {
            // Ana has not heard of Ben's claim: to her it is still unassigned.
            ana.click(&row(contested)).await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Unassigned", WAIT)
                .await?;
            ana.type_into("[data-testid=reply-box]", "Ana here, from the train.")
                .await?;
            ana.click("[data-testid=reply-send]").await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Ana", WAIT)
                .await?;
            ana.screenshot("1-offline-pending").await?;
            ana.reload().await?;
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 5: after the reload, still offline, Ana has her inbox, pending changes and bell",
        &both,
        async {
            ana.wait_for(OFFLINE_BANNER, WAIT).await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Ana", WAIT)
                .await?;
            wait_until("Ana's reply to be kept", WAIT, async || {
                Ok(ana
                    .text("[data-testid=conversation]")
                    .await?
                    .contains("Ana here, from the train."))
            })
            .await?;
            view(&ana, "all").await?;
            let mut all = moved.clone();
            all.push(contested);
            rows_marked(&ana, &all, true).await?;
            anyhow::ensure!(
                ana.count(ROW).await? == 4,
                "Ana's All shows every conversation"
            );
            for l in &landed {
                let told = notices_about(&ana, &l.document).await?;
                anyhow::ensure!(
                    told == 1,
                    "Ana's bell lists {told} notices about {}",
                    l.document
                );
            }
            ana.screenshot("2-reloaded-offline").await?;
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 5: back online, both browsers agree Ben's earlier claim wins",
        &both,
        async {
            ana_link.restore();
            // Ana clicks "Retry now" rather than wait out the backoff, unless
            // the app's own retry got there first (the banner has left).
            if let Some(retry) = ana
                .find_displayed(&format!("{OFFLINE_BANNER} button"))
                .await?
            {
                // A stale button means the banner left meanwhile: back online.
                let _ = retry.click().await;
            }
            let took = ana
                .wait_for_text(CONNECTION, "Live", Duration::from_secs(30))
                .await?;
            eprintln!("scenario 5: Ana was live again after {took:?}");
            wait_until("Ana to be told what changed under her", WAIT, async || {
                Ok(ana
                    .text_now("[data-testid=toasts]")
                    .await?
                    .contains("Ben got 1 conversation you replied to while offline"))
            })
            .await?;
            ana.screenshot("3-told-what-changed").await?;
            let mut all = moved.clone();
            all.push(contested);
            rows_marked(&ana, &all, false).await?;
            // Ana looks at All; Ben at his Mine, where his claim is.
            view(&ben, "mine").await?;
            for browser in both {
                browser.click(&row(contested)).await?;
                browser
                    .wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
                    .await?;
                wait_until("both replies in the conversation", WAIT, async || {
                    let text = browser.text("[data-testid=conversation]").await?;
                    Ok(text.contains("Ben here, looking now.")
                        && text.contains("Ana here, from the train."))
                })
                .await?;
            }
            for conversation in moved.iter().chain([&contested]) {
                ben.wait_for(&row(conversation), WAIT).await?;
            }
            for conversation in moved.iter().chain([&contested]) {
                let on_server = assignee_on_server(&server, conversation).await?;
                anyhow::ensure!(
                    on_server.as_deref() == Some(ben_id),
                    "{conversation} is with {on_server:?} on the server"
                );
            }
            ben.screenshot("4-converged").await?;
            Ok(())
        },
    )
    .await?;

    ana.close().await?;
    ben.close().await?;
    server.stop().await
}
