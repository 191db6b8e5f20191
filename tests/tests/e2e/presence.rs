//! Scenario 6: while Ben types in a conversation, Ana, who has it open,
//! sees him typing there (and sees him viewing it before that).

use baton_tests::browser::app::row;
use baton_tests::browser::{WAIT, step, wait_until};
use baton_tests::customer_writes;

use crate::{Engines, Pair};

crate::in_chromium!(scenario_6_ana_sees_ben_typing_in_the_conversation);

async fn scenario_6_ana_sees_ben_typing_in_the_conversation() -> anyhow::Result<()> {
    let pair = Pair::signed_in("scenario-6", Engines::CHROMIUM).await?;
    let (ana, ben) = (&pair.ana, &pair.ben);
    let both = pair.both();
    let wes = customer_writes(&pair.server, &pair.team, "wes", None).await?;
    let conversation = &wes.conversation;
    const PRESENCE: &str = "[data-testid=presence]";

    step("scenario 6: both open the conversation", &both, async {
        ana.click(&row(conversation)).await?;
        ben.click(&row(conversation)).await?;
        let took = wait_until("Ana to see Ben viewing", WAIT, async || {
            Ok(ana.text_now(PRESENCE).await?.contains("Ben is viewing"))
        })
        .await?;
        eprintln!("scenario 6: Ben's viewing showed after {took:?}");
        Ok(())
    })
    .await?;

    step("scenario 6: Ben types and Ana sees it", &both, async {
        ben.type_into("[data-testid=reply-box]", "Let me check the tracking")
            .await?;
        let took = wait_until("Ana to see Ben typing", WAIT, async || {
            Ok(ana.text_now(PRESENCE).await?.contains("Ben is typing"))
        })
        .await?;
        eprintln!("scenario 6: Ben's typing showed after {took:?}");
        // Ben sees himself nowhere in his own presence line.
        let own = ben.text_now(PRESENCE).await?;
        anyhow::ensure!(!own.contains("Ben"), "Ben's own line reads {own:?}");
        ana.screenshot("ben-typing").await?;
        Ok(())
    })
    .await?;
    pair.finish().await
}
