//! Scenario 12: two nodes on one PostgreSQL database. Ana's browser is
//! served by node A, Ben's by node B; the help-center page's flows — the
//! first reply claims, Reassign from the dropdown, a bulk reassign of five
//! — reach the other agent's browser live across the nodes.

use std::time::Duration;

use baton_tests::browser::app::{reassign_to, row, sign_in, view};
use baton_tests::browser::{Browser, Engine, Screen, WAIT, step, wait_until};
use baton_tests::{Server, Team, app_dist, customer_writes};

use crate::{ANA, BEN, assert_no_console_errors, told};

crate::in_chromium!(scenario_12_flows_cross_nodes_live);

async fn scenario_12_flows_cross_nodes_live() -> anyhow::Result<()> {
    let (team, database) = Team::on_postgres().await?;
    let dist = app_dist()?;
    let args = ["--dist", dist.to_str().unwrap_or_default()];
    let start = || Server::start_on(team.path(), &database, &args, &[], Duration::from_secs(60));
    let (node_a, node_b) = (start().await?, start().await?);
    let ana_browser = Browser::open_in(
        Engine::Chromium,
        Screen::Desktop,
        &node_a.url,
        "scenario-12-ana",
    )
    .await?;
    let ben_browser = Browser::open_in(
        Engine::Chromium,
        Screen::Desktop,
        &node_b.url,
        "scenario-12-ben",
    )
    .await?;
    let (ana, ben) = (&ana_browser, &ben_browser);
    let both = [ana, ben];
    sign_in(ana, ANA).await?;
    sign_in(ben, BEN).await?;
    view(ana, "unassigned").await?;
    view(ben, "unassigned").await?;
    let ben_id = team.agent(BEN)?;

    // Customers write to node B; both agents are told.
    let zoe = customer_writes(&node_b, &team, "zoe", None).await?;
    step(
        "scenario 12: Ana replies on node A; it leaves Ben's Unassigned on node B",
        &both,
        async {
            for browser in both {
                browser.wait_for(&row(&zoe.conversation), WAIT).await?;
                told(browser, &zoe.document, 1).await?;
            }
            ana.click(&row(&zoe.conversation)).await?;
            ana.type_into("[data-testid=reply-box]", "Hi Zoe, I'm on it.")
                .await?;
            ana.click("[data-testid=reply-send]").await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Ana", WAIT)
                .await?;
            let left = ben.wait_gone(&row(&zoe.conversation), WAIT).await?;
            eprintln!(
                "scenario 12: Ana's claim on node A left Ben's Unassigned on node B after {left:?}"
            );
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 12: Ana reassigns to Ben; it reaches his Mine on node B",
        &both,
        async {
            view(ben, "mine").await?;
            reassign_to(ana, ben_id, false).await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
                .await?;
            let took = wait_until("the conversation in Ben's Mine", WAIT, async || {
                Ok(ben.count(&row(&zoe.conversation)).await? == 1)
            })
            .await?;
            eprintln!("scenario 12: the reassign crossed the nodes after {took:?}");
            told(ben, &zoe.document, 2).await?;
            Ok(())
        },
    )
    .await?;

    let mut landed = Vec::new();
    for n in 0..5 {
        landed.push(customer_writes(&node_a, &team, &format!("bulk{n}"), None).await?);
    }
    step(
        "scenario 12: Ana bulk-reassigns five to Ben; all five reach node B",
        &both,
        async {
            view(ana, "unassigned").await?;
            for l in &landed {
                ana.wait_for(&row(&l.conversation), WAIT).await?;
            }
            let checkbox = |c: &str| format!("{} [data-testid=row-select]", row(c));
            ana.click(&checkbox(&landed[0].conversation)).await?;
            for l in &landed[1..] {
                ana.click(&checkbox(&l.conversation)).await?;
            }
            ana.wait_for_text("[data-testid=bulk-count]", "5 selected", WAIT)
                .await?;
            reassign_to(ana, ben_id, true).await?;
            let took = wait_until("all five in Ben's Mine", WAIT, async || {
                let mut there = 0;
                for l in &landed {
                    there += ben.count(&row(&l.conversation)).await?;
                }
                Ok(there == 5)
            })
            .await?;
            eprintln!("scenario 12: the bulk reassign of 5 crossed the nodes after {took:?}");
            ben.click("[data-testid=bell]").await?;
            wait_until("Ben's bell to list the batch", WAIT, async || {
                Ok(ben
                    .text("[data-testid=notifications]")
                    .await?
                    .contains("5 conversations"))
            })
            .await?;
            ben.screenshot("1-five-from-the-other-node").await?;
            Ok(())
        },
    )
    .await?;
    for browser in both {
        assert_no_console_errors(browser).await?;
    }
    ana_browser.close().await?;
    ben_browser.close().await?;
    node_a.stop().await?;
    node_b.stop().await
}
