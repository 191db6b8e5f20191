//! Scenario 3: Reassign from the dropdown hands the conversation to Ben,
//! who is told, and alone is told of what the customer writes next.

use baton_tests::browser::app::{open, option, overlap, reachable, row, toasts, view};
use baton_tests::browser::{WAIT, step, wait_until};
use baton_tests::customer_writes;

use crate::{ANA, BEN, Engines, Pair, told, told_exactly};

crate::in_every_engine!(scenario_3_reassign_from_the_dropdown_tells_the_new_assignee_only);

async fn scenario_3_reassign_from_the_dropdown_tells_the_new_assignee_only(
    engines: Engines,
) -> anyhow::Result<()> {
    let pair = Pair::signed_in("scenario-3", engines).await?;
    let (ana, ben) = (&pair.ana, &pair.ben);
    let both = pair.both();
    let xia = customer_writes(&pair.server, &pair.team, "xia", None).await?;
    let (conversation, doc) = (&xia.conversation, &xia.document);
    let ben_id = pair.team.agent(BEN)?;

    step("scenario 3: Ana opens the conversation", &both, async {
        view(ben, "mine").await?;
        told(ben, doc, 1).await?;
        ana.click(&row(conversation)).await?;
        ana.wait_for_text("[data-testid=assignee-name]", "Unassigned", WAIT)
            .await?;
        Ok(())
    })
    .await?;

    step(
        "scenario 3: Ana picks Ben in the Reassign dropdown and clicks Assign",
        &both,
        async {
            open(
                ana,
                "[data-testid=reassign-button]",
                "[data-testid=reassign-dropdown]",
            )
            .await?;
            // A busy inbox: five customer messages, five toasts, while the
            // dropdown is open. None may sit over it.
            for n in 0..5 {
                customer_writes(&pair.server, &pair.team, &format!("busy{n}"), None).await?;
            }
            wait_until("five toasts in Ana's browser", WAIT, async || {
                Ok(toasts(ana).await? >= 5)
            })
            .await?;
            ana.wait_for("[data-testid=toast-more]", WAIT).await?;
            ana.screenshot("1-reassign-dropdown-with-toasts").await?;
            ana.click(&option(ben_id)).await?;
            for toast in ["[data-testid=toasts]", "[data-testid=toast]"] {
                anyhow::ensure!(
                    !overlap(ana, toast, "[data-testid=reassign-dropdown]").await?,
                    "{toast} sits over the Reassign dropdown"
                );
            }
            anyhow::ensure!(
                reachable(ana, "[data-testid=assign-confirm]").await?,
                "something covers Assign"
            );
            ana.click_once("[data-testid=assign-confirm]").await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
                .await?;
            let took = wait_until("the conversation in Ben's Mine", WAIT, async || {
                Ok(ben.count(&row(conversation)).await? == 1)
            })
            .await?;
            eprintln!("scenario 3: the reassign reached Ben's Mine after {took:?}");
            told(ben, doc, 2).await?;
            ben.screenshot("2-in-mine-and-told").await?;
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 3: the next customer message tells Ben only",
        &both,
        async {
            customer_writes(&pair.server, &pair.team, "xia", Some(&xia)).await?;
            told(ben, doc, 3).await?;
            told_exactly(&pair, ana, ANA, doc, 1).await?;
            ben.screenshot("3-only-ben-told").await?;
            Ok(())
        },
    )
    .await?;
    pair.finish().await
}
