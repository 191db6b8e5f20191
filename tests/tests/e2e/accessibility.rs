//! Scenario 10: axe-core (npm, pinned in `tests/axe`) injected through
//! WebDriver finds no serious or critical violation on the inbox, the
//! conversation, the Reassign dropdown, the bulk bar and Settings, in the
//! light and the dark theme; and on a phone (390×844) on the inbox, the
//! menu, the conversation, the Reassign sheet and the bulk bar, light and
//! dark.

use std::path::Path;

use baton_tests::browser::app::{row, sign_in, view};
use baton_tests::browser::{Browser, Engine, Screen, WAIT, step};
use baton_tests::{Server, Team, customer_writes};
use serde_json::{Value, json};

use crate::{ANA, Engines, Pair};

crate::in_chromium!(
    scenario_10_no_serious_accessibility_violation_on_the_main_screens,
    scenario_10_no_serious_accessibility_violation_on_a_phone,
);

fn axe_source() -> anyhow::Result<String> {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/axe"));
    baton_tests::npm_install(dir, "axe-core")?;
    Ok(std::fs::read_to_string(
        dir.join("node_modules/axe-core/axe.min.js"),
    )?)
}

/// Runs axe on the page as it is; fails on serious or critical violations
/// and logs the rest.
async fn audit(browser: &Browser, axe: &str, screen: &str) -> anyhow::Result<()> {
    browser.script(axe, vec![]).await?;
    let found = browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
                .then((r) => done(r.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')),
                }))))
                .catch((e) => done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [] }]));",
            vec![],
        )
        .await?;
    let violations = found.as_array().cloned().unwrap_or_default();
    for v in &violations {
        eprintln!(
            "scenario 10: {screen}: {} ({}): {}",
            v["id"], v["impact"], v["help"]
        );
    }
    let blocking: Vec<&Value> = violations
        .iter()
        .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
        .collect();
    anyhow::ensure!(
        blocking.is_empty(),
        "axe found serious or critical violations on {screen}: {blocking:#?}"
    );
    Ok(())
}

async fn set_theme(browser: &Browser, scheme: &str) -> anyhow::Result<()> {
    browser
        .driver()?
        .cdp()
        .send_raw(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await?;
    Ok(())
}

async fn scenario_10_no_serious_accessibility_violation_on_the_main_screens() -> anyhow::Result<()>
{
    let axe = axe_source()?;
    let pair = Pair::signed_in("scenario-10", Engines::CHROMIUM).await?;
    let ana = &pair.ana;
    let ana_ = [ana];
    let mut landed = Vec::new();
    for n in 0..3 {
        landed.push(customer_writes(&pair.server, &pair.team, &format!("a11y{n}"), None).await?);
    }
    let first = &landed[0].conversation;
    let second = &landed[1].conversation;

    for scheme in ["light", "dark"] {
        set_theme(ana, scheme).await?;
        step(
            &format!("scenario 10: the inbox ({scheme})"),
            &ana_,
            async {
                ana.goto("/").await?;
                view(ana, "unassigned").await?;
                for l in &landed {
                    ana.wait_for(&row(&l.conversation), WAIT).await?;
                }
                audit(ana, &axe, &format!("the inbox ({scheme})")).await
            },
        )
        .await?;

        step(
            &format!("scenario 10: a conversation ({scheme})"),
            &ana_,
            async {
                ana.click(&row(first)).await?;
                ana.wait_for("[data-testid=reply-box]", WAIT).await?;
                audit(ana, &axe, &format!("a conversation ({scheme})")).await
            },
        )
        .await?;

        step(
            &format!("scenario 10: the Reassign dropdown ({scheme})"),
            &ana_,
            async {
                ana.click("[data-testid=reassign-button]").await?;
                ana.wait_for("[data-testid=reassign-dropdown]", WAIT)
                    .await?;
                audit(ana, &axe, &format!("the Reassign dropdown ({scheme})")).await?;
                ana.press(thirtyfour::Key::Escape).await?;
                ana.wait_gone("[data-testid=reassign-dropdown]", WAIT)
                    .await?;
                Ok(())
            },
        )
        .await?;

        step(
            &format!("scenario 10: the bulk bar ({scheme})"),
            &ana_,
            async {
                for conversation in [first, second] {
                    ana.click(&format!("{} [data-testid=row-select]", row(conversation)))
                        .await?;
                }
                ana.wait_for_text("[data-testid=bulk-count]", "2 selected", WAIT)
                    .await?;
                audit(ana, &axe, &format!("the bulk bar ({scheme})")).await?;
                ana.click("[data-testid=bulk-clear]").await
            },
        )
        .await?;

        step(&format!("scenario 10: Settings ({scheme})"), &ana_, async {
            ana.goto("/#/settings").await?;
            ana.wait_for("[data-testid=settings]", WAIT).await?;
            audit(ana, &axe, &format!("Settings ({scheme})")).await
        })
        .await?;
    }
    pair.finish().await
}

async fn scenario_10_no_serious_accessibility_violation_on_a_phone() -> anyhow::Result<()> {
    let axe = axe_source()?;
    let team = Team::new().await?;
    let server = Server::with_app(team.path(), &[]).await?;
    let mut landed = Vec::new();
    for n in 0..3 {
        landed.push(customer_writes(&server, &team, &format!("a11y{n}"), None).await?);
    }
    let (first, second) = (&landed[0].conversation, &landed[1].conversation);
    let label = "scenario-10-chromium-phone";
    let ana = Browser::open_in(Engine::Chromium, Screen::Phone, &server.url, label).await?;
    let ana_ = [&ana];
    sign_in(&ana, ANA).await?;

    for scheme in ["light", "dark"] {
        set_theme(&ana, scheme).await?;
        step(
            &format!("scenario 10: a phone's inbox and menu ({scheme})"),
            &ana_,
            async {
                ana.goto("/").await?;
                ana.wait_for(&row(first), WAIT).await?;
                audit(&ana, &axe, &format!("a phone's inbox ({scheme})")).await?;
                ana.tap("[data-testid=menu]").await?;
                ana.wait_for("[data-testid=views-menu]", WAIT).await?;
                audit(&ana, &axe, &format!("a phone's menu ({scheme})")).await?;
                ana.tap("[data-testid=menu-close]").await?;
                ana.wait_gone("[data-testid=views-menu]", WAIT).await?;
                Ok(())
            },
        )
        .await?;

        step(
            &format!("scenario 10: a phone's conversation and Reassign sheet ({scheme})"),
            &ana_,
            async {
                ana.tap(&row(first)).await?;
                ana.wait_for("[data-testid=reply-box]", WAIT).await?;
                audit(&ana, &axe, &format!("a phone's conversation ({scheme})")).await?;
                ana.tap("[data-testid=reassign-button]").await?;
                ana.wait_for("[data-testid=reassign-dropdown]", WAIT)
                    .await?;
                audit(&ana, &axe, &format!("a phone's Reassign sheet ({scheme})")).await?;
                ana.tap("[data-testid=conversation-back]").await?;
                ana.wait_for("[data-testid=inbox-list]", WAIT).await?;
                Ok(())
            },
        )
        .await?;

        step(
            &format!("scenario 10: a phone's bulk bar ({scheme})"),
            &ana_,
            async {
                for conversation in [first, second] {
                    ana.tap(&format!("{} [data-testid=row-select]", row(conversation)))
                        .await?;
                }
                ana.wait_for_text("[data-testid=bulk-count]", "2 selected", WAIT)
                    .await?;
                audit(&ana, &axe, &format!("a phone's bulk bar ({scheme})")).await?;
                ana.tap("[data-testid=bulk-clear]").await
            },
        )
        .await?;
    }
    ana.close().await?;
    server.stop().await
}
