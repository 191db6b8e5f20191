//! The end-to-end scenarios: two agents, Ana and Ben, each in their own
//! headless Chromium, against the real `baton serve` with a temporary data
//! directory. One module per capability; each scenario is one test, each of
//! its steps named after what the agent does, so a failure says where and
//! leaves screenshots and consoles under `target/e2e/<test>-<agent>/`.
//! Key states of scenarios 1, 3, 4 and 5 are photographed on every run.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod accessibility;
mod bulk;
mod inbox;
mod offline;
mod presence;
mod reassign;
mod security;
mod settings;
mod workflows;

use std::time::Duration;

use baton_tests::browser::app::{notices_about, sign_in, view};
use baton_tests::browser::{Browser, WAIT, wait_until};
use baton_tests::{Server, Team, notifications_about};

pub const ANA: &str = "ana@acme.test";
pub const BEN: &str = "ben@acme.test";

/// A team, the server with the app, and Ana and Ben each in a browser.
pub struct Pair {
    pub team: Team,
    pub server: Server,
    pub ana: Browser,
    pub ben: Browser,
}

impl Pair {
    /// Starts everything and signs both agents in, both looking at Unassigned.
    /// `scenario` names the browsers' artifact folders.
    pub async fn signed_in(scenario: &str) -> anyhow::Result<Pair> {
        let pair = Self::open(scenario).await?;
        sign_in(&pair.ana, ANA).await?;
        sign_in(&pair.ben, BEN).await?;
        view(&pair.ana, "unassigned").await?;
        view(&pair.ben, "unassigned").await?;
        Ok(pair)
    }

    /// Starts everything; nobody signed in yet.
    pub async fn open(scenario: &str) -> anyhow::Result<Pair> {
        let team = Team::new().await?;
        let server = Server::with_app(team.path(), &[]).await?;
        let ana = Browser::open(&server.url, &format!("{scenario}-ana")).await?;
        let ben = Browser::open(&server.url, &format!("{scenario}-ben")).await?;
        Ok(Pair {
            team,
            server,
            ana,
            ben,
        })
    }

    pub fn both(&self) -> [&Browser; 2] {
        [&self.ana, &self.ben]
    }

    /// Checks that neither browser logged an error (signing in starts from
    /// an expected 401 on `/api/me`), then closes everything.
    pub async fn finish(self) -> anyhow::Result<()> {
        for browser in self.both() {
            let errors = browser.console_errors().await?;
            let unexpected: Vec<_> = errors.iter().filter(|e| !e.contains("/api/me")).collect();
            assert!(
                unexpected.is_empty(),
                "console errors in {}: {unexpected:#?}",
                browser.label()
            );
        }
        self.close().await
    }

    /// Closes the browsers and stops the server.
    pub async fn close(self) -> anyhow::Result<()> {
        self.ana.close().await?;
        self.ben.close().await?;
        self.server.stop().await
    }
}

/// Waits until `browser`'s bell lists `n` notifications about `doc`;
/// returns how long that took (logged, never asserted).
pub async fn told(browser: &Browser, doc: &str, n: usize) -> anyhow::Result<Duration> {
    let what = format!("{} to hold {n} notifications about {doc}", browser.label());
    wait_until(&what, WAIT, async || {
        Ok(notices_about(browser, doc).await? == n)
    })
    .await
}

/// Checks that `email`, in `browser` and on the server, still has exactly
/// `n` notifications about `doc`. Called once someone else's notification
/// for the same event has arrived: the server stores every recipient's in
/// the change that caused them, so a missing one is not merely late.
pub async fn told_exactly(
    pair: &Pair,
    browser: &Browser,
    email: &str,
    doc: &str,
    n: usize,
) -> anyhow::Result<()> {
    let stored = notifications_about(&pair.server, email, doc).await?;
    anyhow::ensure!(
        stored.len() == n,
        "{email} should have {n} notifications about {doc} on the server: {stored:#?}"
    );
    let shown = notices_about(browser, doc).await?;
    anyhow::ensure!(
        shown == n,
        "{} shows {shown} notifications about {doc}, not {n}",
        browser.label()
    );
    Ok(())
}
