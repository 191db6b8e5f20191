//! The browser harness itself: a failing step leaves a screenshot and the
//! console named after it, waits fail with what they waited for, and the
//! console is captured. Uses pages of the bare server (no app needed).
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use baton_tests::browser::{Browser, Engine, Screen, step, wait_until};
use baton_tests::{Server, Team};
use futures_util::FutureExt;
use serde_json::json;

#[tokio::test]
async fn a_failing_step_saves_a_screenshot_and_the_console_named_after_it() -> anyhow::Result<()> {
    for engine in Engine::ALL {
        failing_step_in(engine).await?;
    }
    Ok(())
}

async fn failing_step_in(engine: Engine) -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let label = format!("harness-failure-{}", engine.name());
    let browser = Browser::open_in(engine, Screen::Desktop, &server.url, &label).await?;
    let dir = browser.artifacts_dir();

    let failed: anyhow::Result<()> = step("step 1: an error", &[&browser], async {
        browser.goto("/healthz").await?;
        browser
            .script("console.error('left for the record')", vec![])
            .await?;
        anyhow::bail!("the page said no")
    })
    .await;
    let message = format!("{:#}", failed.unwrap_err());
    assert!(
        message.contains("step 'step 1: an error' failed"),
        "{message}"
    );
    assert!(message.contains("the page said no"), "{message}");
    assert!(dir.join("failed-step-1-an-error.png").is_file());
    let console = std::fs::read_to_string(dir.join("failed-step-1-an-error.console.txt"))?;
    assert!(
        console.contains("left for the record"),
        "{engine:?}: {console}"
    );

    let panicked = AssertUnwindSafe(step("step 2: a failed assert", &[&browser], async {
        assert_eq!(1 + 1, 3, "arithmetic");
        Ok(())
    }))
    .catch_unwind()
    .await;
    assert!(panicked.is_err(), "the panic goes on after the artifacts");
    assert!(dir.join("failed-step-2-a-failed-assert.png").is_file());
    browser.close().await?;
    server.stop().await
}

#[tokio::test]
async fn waits_end_at_their_deadline_and_say_what_they_waited_for() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let browser = Browser::open(&server.url, "harness-waits").await?;
    browser.goto("/healthz").await?;
    assert!(browser.text("body").await?.contains("\"status\":\"ok\""));

    let short = Duration::from_millis(300);
    let missing = browser.wait_for("#nowhere", short).await.unwrap_err();
    assert!(
        format!("{missing:#}").contains("`#nowhere` to show"),
        "{missing:#}"
    );

    browser
        .script(
            "setTimeout(() => { document.title = 'later'; }, 200)",
            vec![],
        )
        .await?;
    let took = wait_until("the title to change", Duration::from_secs(5), async || {
        Ok(browser.script("return document.title", vec![]).await? == json!("later"))
    })
    .await?;
    assert!(took >= Duration::from_millis(150), "{took:?}");
    browser.close().await?;
    server.stop().await
}
