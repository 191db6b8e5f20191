//! Scenarios 1 and 2: a customer message reaches both agents; the first
//! reply claims the conversation, "Reply and leave unassigned" does not.

use baton_tests::browser::app::{row, view};
use baton_tests::browser::{WAIT, step, wait_until};
use baton_tests::customer_writes;

use crate::{ANA, BEN, Engines, Pair, told, told_exactly};

crate::in_every_engine!(
    scenario_1_the_first_reply_claims_and_then_only_the_assignee_is_told,
    scenario_2_reply_and_leave_unassigned_keeps_telling_both,
);

async fn scenario_1_the_first_reply_claims_and_then_only_the_assignee_is_told(
    engines: Engines,
) -> anyhow::Result<()> {
    let pair = Pair::signed_in("scenario-1", engines).await?;
    let (ana, ben) = (&pair.ana, &pair.ben);
    let both = pair.both();
    let zoe = customer_writes(&pair.server, &pair.team, "zoe", None).await?;
    let (conversation, doc) = (&zoe.conversation, &zoe.document);

    step(
        "scenario 1: the message shows in both Unassigned views and both are told",
        &both,
        async {
            for browser in both {
                browser.wait_for(&row(conversation), WAIT).await?;
                told(browser, doc, 1).await?;
                browser.screenshot("1-both-told").await?;
            }
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 1: Ana replies; it leaves Ben's Unassigned for Ana's Mine",
        &both,
        async {
            ana.click(&row(conversation)).await?;
            ana.type_into("[data-testid=reply-box]", "Hi Zoe, I'm on it.")
                .await?;
            ana.click("[data-testid=reply-send]").await?;
            ana.wait_for_text("[data-testid=assignee-name]", "Ana", WAIT)
                .await?;
            let left = ben.wait_gone(&row(conversation), WAIT).await?;
            eprintln!("scenario 1: Ana's claim left Ben's Unassigned after {left:?}");
            view(ana, "mine").await?;
            ana.wait_for(&row(conversation), WAIT).await?;
            ana.screenshot("2-claimed-in-mine").await?;
            ben.screenshot("2-gone-from-unassigned").await?;
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 1: the next customer message tells Ana only",
        &both,
        async {
            customer_writes(&pair.server, &pair.team, "zoe", Some(&zoe)).await?;
            let took = told(ana, doc, 2).await?;
            eprintln!("scenario 1: Ana was told of the follow-up after {took:?}");
            told_exactly(&pair, ben, BEN, doc, 1).await?;
            ana.screenshot("3-only-ana-told").await?;
            Ok(())
        },
    )
    .await?;
    pair.finish().await
}

async fn scenario_2_reply_and_leave_unassigned_keeps_telling_both(
    engines: Engines,
) -> anyhow::Result<()> {
    let pair = Pair::signed_in("scenario-2", engines).await?;
    let (ana, ben) = (&pair.ana, &pair.ben);
    let both = pair.both();
    let yan = customer_writes(&pair.server, &pair.team, "yan", None).await?;
    let (conversation, doc) = (&yan.conversation, &yan.document);

    step("scenario 2: both are told of the message", &both, async {
        for browser in both {
            told(browser, doc, 1).await?;
        }
        Ok(())
    })
    .await?;

    step(
        "scenario 2: Ana replies and leaves it unassigned",
        &both,
        async {
            ana.click(&row(conversation)).await?;
            ana.type_into("[data-testid=reply-box]", "Forwarding this to billing.")
                .await?;
            ana.click("[data-testid=reply-leave-unassigned]").await?;
            // Ben sees the reply arrive, and the conversation still nobody's.
            ben.click(&row(conversation)).await?;
            wait_until("Ana's reply to reach Ben", WAIT, async || {
                Ok(ben
                    .text("[data-testid=conversation]")
                    .await?
                    .contains("Forwarding this to billing."))
            })
            .await?;
            for browser in both {
                browser
                    .wait_for_text("[data-testid=assignee-name]", "Unassigned", WAIT)
                    .await?;
                browser.wait_for(&row(conversation), WAIT).await?;
            }
            Ok(())
        },
    )
    .await?;

    step(
        "scenario 2: the next customer message tells both",
        &both,
        async {
            customer_writes(&pair.server, &pair.team, "yan", Some(&yan)).await?;
            for (browser, email) in [(ana, ANA), (ben, BEN)] {
                told(browser, doc, 2).await?;
                told_exactly(&pair, browser, email, doc, 2).await?;
            }
            Ok(())
        },
    )
    .await?;
    pair.finish().await
}
