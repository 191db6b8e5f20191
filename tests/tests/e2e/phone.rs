//! Scenario 11: on a phone (390×844), by touch alone and never scrolling
//! sideways, Ana reaches every view and filter from the menu, opens a
//! conversation and goes back, reassigns from the dropdown, selects a range
//! and uses the bulk bar, and replies. Chromium emulates the phone (touch
//! included); WebKit runs as narrow as MiniBrowser's window goes (447 px).

use baton_tests::browser::app::{option, row, rows_in_order, sign_in};
use baton_tests::browser::{Browser, Engine, Screen, WAIT, step, wait_until};
use baton_tests::{Server, Team, customer_writes};

use crate::{ANA, BEN};

crate::only_in!(
    only_chromium,
    Chromium,
    scenario_11_a_phone_reaches_everything_by_touch
);
crate::only_in!(
    only_webkit,
    WebKit,
    scenario_11_a_phone_reaches_everything_by_touch
);

const MENU: &str = "[data-testid=views-menu]";

/// Fails if the page scrolls sideways, naming the screen.
async fn fits(browser: &Browser, screen: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !browser.scrolls_sideways().await?,
        "{screen} is wider than the phone"
    );
    browser.screenshot(screen).await?;
    Ok(())
}

/// Opens the menu, taps the view `choice` in it, and waits for the menu to
/// close (picking a view closes it).
async fn from_menu(browser: &Browser, choice: &str) -> anyhow::Result<()> {
    browser.tap("[data-testid=menu]").await?;
    browser.wait_for(MENU, WAIT).await?;
    browser.tap(choice).await?;
    browser.wait_gone(MENU, WAIT).await?;
    Ok(())
}

/// Picks `value` in the drawer's `<select>` at `css` (a tap on the option,
/// as a phone's picker list does).
async fn choose(browser: &Browser, css: &str, value: &str) -> anyhow::Result<()> {
    browser.tap("[data-testid=menu]").await?;
    browser.wait_for(MENU, WAIT).await?;
    browser
        .click(&format!("{css} option[value='{value}']"))
        .await?;
    fits(browser, &format!("menu-{value}")).await?;
    browser.tap("[data-testid=menu-close]").await?;
    browser.wait_gone(MENU, WAIT).await?;
    Ok(())
}

async fn scenario_11_a_phone_reaches_everything_by_touch(engine: Engine) -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::with_app(team.path(), &[]).await?;
    let mut landed = Vec::new();
    for n in 0..6 {
        landed.push(customer_writes(&server, &team, &format!("phone{n}"), None).await?);
    }
    let ben_id = team.agent(BEN)?;
    let label = format!("scenario-11-{}-phone", engine.name());
    let ana = Browser::open_in(engine, Screen::Phone, &server.url, &label).await?;
    let ana_ = [&ana];

    step("scenario 11: Ana signs in on her phone", &ana_, async {
        sign_in(&ana, ANA).await?;
        for l in &landed {
            ana.wait_for(&row(&l.conversation), WAIT).await?;
        }
        anyhow::ensure!(
            ana.find_displayed(MENU).await?.is_none(),
            "the menu starts closed"
        );
        fits(&ana, "1-inbox").await
    })
    .await?;

    step(
        "scenario 11: every view and filter from the menu",
        &ana_,
        async {
            for (view, title) in [
                ("mine", "Mine"),
                ("all", "All"),
                ("unassigned", "Unassigned"),
            ] {
                from_menu(&ana, &format!("[data-testid=view-{view}]")).await?;
                ana.wait_for_text(".inbox-head h2", title, WAIT).await?;
            }
            choose(&ana, "[data-testid=status-filter]", "resolved").await?;
            ana.wait_for("[data-testid=inbox-empty]", WAIT).await?;
            choose(&ana, "[data-testid=status-filter]", "open").await?;
            let channel = team.channel.as_str();
            choose(&ana, "[data-testid=channel-filter]", channel).await?;
            ana.wait_for(&row(&landed[0].conversation), WAIT).await?;
            choose(&ana, "[data-testid=channel-filter]", "").await?;
            fits(&ana, "2-filtered").await
        },
    )
    .await?;

    step(
        "scenario 11: open a conversation and go back",
        &ana_,
        async {
            ana.tap(&row(&landed[0].conversation)).await?;
            ana.wait_for("[data-testid=reply-box]", WAIT).await?;
            anyhow::ensure!(
                ana.find_displayed("[data-testid=inbox-list]")
                    .await?
                    .is_none(),
                "the conversation takes the whole screen"
            );
            fits(&ana, "3-conversation").await?;
            ana.tap("[data-testid=conversation-back]").await?;
            ana.wait_for("[data-testid=inbox-list]", WAIT).await?;
            ana.wait_gone("[data-testid=conversation]", WAIT).await?;
            Ok(())
        },
    )
    .await?;

    step("scenario 11: reassign from the dropdown", &ana_, async {
        ana.tap(&row(&landed[0].conversation)).await?;
        ana.tap("[data-testid=reassign-button]").await?;
        ana.wait_for("[data-testid=reassign-dropdown]", WAIT)
            .await?;
        fits(&ana, "4-reassign-sheet").await?;
        ana.tap(&option(ben_id)).await?;
        ana.tap("[data-testid=assign-confirm]").await?;
        ana.wait_for_text("[data-testid=assignee-name]", "Ben", WAIT)
            .await?;
        ana.tap("[data-testid=conversation-back]").await?;
        ana.wait_gone(&row(&landed[0].conversation), WAIT).await?;
        Ok(())
    })
    .await?;

    step(
        "scenario 11: select a range and reassign it in bulk",
        &ana_,
        async {
            let order = rows_in_order(&ana).await?;
            anyhow::ensure!(order.len() == 5, "Unassigned shows {order:?}");
            let tick =
                |conversation: &str| format!("{} [data-testid=row-select]", row(conversation));
            ana.tap(&tick(&order[0])).await?;
            ana.tap("[data-testid=bulk-range]").await?;
            ana.tap(&tick(&order[2])).await?;
            ana.wait_for_text("[data-testid=bulk-count]", "3 selected", WAIT)
                .await?;
            fits(&ana, "5-bulk-bar").await?;
            ana.tap("[data-testid=bulk-reassign]").await?;
            ana.tap(&option(ben_id)).await?;
            ana.tap("[data-testid=assign-confirm]").await?;
            wait_until("the three to leave Unassigned", WAIT, async || {
                Ok(rows_in_order(&ana).await?.len() == 2)
            })
            .await?;
            Ok(())
        },
    )
    .await?;

    step("scenario 11: reply", &ana_, async {
        let left = rows_in_order(&ana).await?;
        ana.tap(&row(&left[0])).await?;
        ana.wait_for("[data-testid=reply-box]", WAIT).await?;
        ana.type_into("[data-testid=reply-box]", "Replying from my phone.")
            .await?;
        ana.tap("[data-testid=reply-send]").await?;
        ana.wait_for_text("[data-testid=assignee-name]", "Ana", WAIT)
            .await?;
        fits(&ana, "6-replied").await
    })
    .await?;

    let errors = ana.console_errors().await?;
    let unexpected: Vec<_> = errors.iter().filter(|e| !e.contains("/api/me")).collect();
    anyhow::ensure!(unexpected.is_empty(), "console errors: {unexpected:#?}");
    ana.close().await?;
    server.stop().await
}
