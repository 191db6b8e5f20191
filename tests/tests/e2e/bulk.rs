//! Scenario 4: a checkbox, then Shift+Click four rows below, selects five;
//! Reassign → Ben → Assign moves all five, live in Ben's browser, and Ben
//! is told once for the batch.

use baton_tests::browser::app::{reassign_to, row, rows_in_order, view};
use baton_tests::browser::{WAIT, step, wait_until};
use baton_tests::customer_writes;

use crate::{BEN, Engines, Pair};

crate::in_every_engine!(scenario_4_shift_click_selects_five_and_bulk_reassign_moves_them_live);

fn checkbox(conversation: &str) -> String {
    format!("{} [data-testid=row-select]", row(conversation))
}

async fn scenario_4_shift_click_selects_five_and_bulk_reassign_moves_them_live(
    engines: Engines,
) -> anyhow::Result<()> {
    let pair = Pair::signed_in("scenario-4", engines).await?;
    let (ana, ben) = (&pair.ana, &pair.ben);
    let both = pair.both();
    let mut landed = Vec::new();
    for n in 0..7 {
        let customer = format!("bulk{n}");
        landed.push(customer_writes(&pair.server, &pair.team, &customer, None).await?);
    }
    let ben_id = pair.team.agent(BEN)?;

    let order = step(
        "scenario 4: seven conversations wait unassigned",
        &both,
        async {
            view(ben, "mine").await?;
            for l in &landed {
                ana.wait_for(&row(&l.conversation), WAIT).await?;
            }
            let order = rows_in_order(ana).await?;
            anyhow::ensure!(order.len() == 7, "Ana's Unassigned shows {order:?}");
            Ok(order)
        },
    )
    .await?;
    let chosen = &order[1..6];

    step(
        "scenario 4: Ana clicks one checkbox and Shift+Clicks four rows below",
        &both,
        async {
            ana.click(&checkbox(&order[1])).await?;
            ana.shift_click(&checkbox(&order[5])).await?;
            ana.wait_for_text("[data-testid=bulk-count]", "5 selected", WAIT)
                .await?;
            for (n, conversation) in order.iter().enumerate() {
                let selected = ana
                    .script(
                        "return document.querySelector(arguments[0]).checked",
                        vec![serde_json::json!(checkbox(conversation))],
                    )
                    .await?;
                let expected = (1..6).contains(&n);
                anyhow::ensure!(
                    selected == expected,
                    "row {n} selected: {selected}, expected {expected}"
                );
            }
            ana.screenshot("1-five-selected").await?;
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 4: Reassign → Ben → Assign moves all five to Ben's Mine",
        &both,
        async {
            reassign_to(ana, ben_id, true).await?;
            let took = wait_until("all five in Ben's Mine", WAIT, async || {
                let mut there = 0;
                for conversation in chosen {
                    there += ben.count(&row(conversation)).await?;
                }
                Ok(there == 5)
            })
            .await?;
            eprintln!("scenario 4: the bulk reassign of 5 reached Ben's Mine after {took:?}");
            for conversation in [&order[0], &order[6]] {
                anyhow::ensure!(
                    ben.count(&row(conversation)).await? == 0,
                    "an unselected conversation moved"
                );
                ana.wait_for(&row(conversation), WAIT).await?;
            }
            ana.wait_gone("[data-testid=bulk-bar]", WAIT).await?;
            ana.wait_for_text("[data-testid=count-unassigned]", "2", WAIT)
                .await?;
            ben.screenshot("2-five-in-mine").await?;
            Ok(())
        },
    )
    .await?;

    step("scenario 4: Ben is told once for the five", &both, async {
        ben.click("[data-testid=bell]").await?;
        let told = wait_until("Ben's bell to list the batch", WAIT, async || {
            Ok(ben
                .text("[data-testid=notifications]")
                .await?
                .contains("5 conversations"))
        })
        .await?;
        eprintln!("scenario 4: the batch notification showed after {told:?}");
        let batches = ben
            .script(
                "return [...document.querySelectorAll('[data-testid=notification]')]
                    .filter((n) => n.textContent.includes('assigned you')).length",
                vec![],
            )
            .await?;
        anyhow::ensure!(
            batches == serde_json::json!(1),
            "Ben has {batches} assignment notifications, not one for the batch"
        );
        ben.screenshot("3-told-once").await?;
        Ok(())
    })
    .await?;
    pair.finish().await
}
