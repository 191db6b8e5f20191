//! The end-to-end scenarios: two agents, Ana and Ben, each in their own
//! browser, against the real `baton serve` with a temporary data directory.
//! One module per capability; each of its steps is named after what the
//! agent does, so a failure says where and leaves screenshots and consoles
//! under `target/e2e/<scenario>-<engine>-<agent>/`. Key states of scenarios
//! 1, 3, 4 and 5 are photographed on every run.
//!
//! Scenarios 1–5 run three times, Ana and Ben in different engines, so each
//! engine plays each role: tests `chromium_firefox::…`, `firefox_webkit::…`
//! and `webkit_chromium::…` (Ana's engine first). The rest run in Chromium
//! (`only_chromium::…`), the phone scenario in WebKit too (`only_webkit::…`).
//! Scenario 12 runs two nodes on PostgreSQL, one browser on each.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod accessibility;
mod bulk;
mod inbox;
mod nodes;
mod offline;
mod phone;

mod presence;
mod reassign;
mod security;
mod settings;
mod workflows;

use std::time::Duration;

use baton_tests::browser::app::{notices_about, sign_in, view};
use baton_tests::browser::{Browser, Engine, Screen, WAIT, wait_until};
use baton_tests::{Server, Team, notifications_about};

pub const ANA: &str = "ana@acme.test";
pub const BEN: &str = "ben@acme.test";

/// The engines of Ana's and Ben's browsers.
#[derive(Debug, Clone, Copy)]
pub struct Engines {
    pub ana: Engine,
    pub ben: Engine,
}

impl Engines {
    pub const CHROMIUM: Engines = Engines {
        ana: Engine::Chromium,
        ben: Engine::Chromium,
    };

    /// The folder name of an agent's browser in `scenario`:
    /// `scenario-1-firefox-ana`.
    pub fn label(&self, scenario: &str, agent: &str) -> String {
        let engine = if agent == "ana" { self.ana } else { self.ben };
        format!("{scenario}-{}-{agent}", engine.name())
    }

    /// Opens an agent's browser at desktop size on `url`.
    pub async fn open(&self, url: &str, scenario: &str, agent: &str) -> anyhow::Result<Browser> {
        let engine = if agent == "ana" { self.ana } else { self.ben };
        Browser::open_in(engine, Screen::Desktop, url, &self.label(scenario, agent)).await
    }
}

/// One test per pairing of engines for each two-agent scenario named: in
/// `chromium_firefox::…` Ana uses Chromium and Ben Firefox, and so on round.
macro_rules! in_every_engine {
    ($($scenario:ident),+ $(,)?) => {
        $crate::in_every_engine!(@pair chromium_firefox, Chromium, Firefox, $($scenario),+);
        $crate::in_every_engine!(@pair firefox_webkit, Firefox, WebKit, $($scenario),+);
        $crate::in_every_engine!(@pair webkit_chromium, WebKit, Chromium, $($scenario),+);
    };
    (@pair $pairing:ident, $ana:ident, $ben:ident, $($scenario:ident),+) => {
        mod $pairing {
            use baton_tests::browser::Engine;
            $(
                #[tokio::test]
                async fn $scenario() -> anyhow::Result<()> {
                    let engines = crate::Engines { ana: Engine::$ana, ben: Engine::$ben };
                    super::$scenario(engines).await
                }
            )+
        }
    };
}

/// One test per scenario named, in `only_<engine>::…`, each calling the
/// scenario with that engine.
macro_rules! only_in {
    ($module:ident, $engine:ident, $($scenario:ident),+ $(,)?) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $scenario() -> anyhow::Result<()> {
                    super::$scenario(baton_tests::browser::Engine::$engine).await
                }
            )+
        }
    };
}
/// One test per Chromium-only scenario named, in `only_chromium::…`.
macro_rules! in_chromium {
    ($($scenario:ident),+ $(,)?) => {
        mod only_chromium {
            $(
                #[tokio::test]
                async fn $scenario() -> anyhow::Result<()> {
                    super::$scenario().await
                }
            )+
        }
    };
}
pub(crate) use {in_chromium, in_every_engine, only_in};

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
    pub async fn signed_in(scenario: &str, engines: Engines) -> anyhow::Result<Pair> {
        let pair = Self::open(scenario, engines).await?;
        sign_in(&pair.ana, ANA).await?;
        sign_in(&pair.ben, BEN).await?;
        view(&pair.ana, "unassigned").await?;
        view(&pair.ben, "unassigned").await?;
        Ok(pair)
    }

    /// Starts everything; nobody signed in yet.
    pub async fn open(scenario: &str, engines: Engines) -> anyhow::Result<Pair> {
        let team = Team::new().await?;
        let server = Server::with_app(team.path(), &[]).await?;
        let ana = engines.open(&server.url, scenario, "ana").await?;
        let ben = engines.open(&server.url, scenario, "ben").await?;
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

    /// Checks that neither browser logged an error, then closes everything.
    pub async fn finish(self) -> anyhow::Result<()> {
        for browser in self.both() {
            assert_no_console_errors(browser).await?;
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

/// Asserts that `browser` logged no error (signing in starts from an
/// expected 401 on `/api/me`).
pub async fn assert_no_console_errors(browser: &Browser) -> anyhow::Result<()> {
    let errors = browser.console_errors().await?;
    let unexpected: Vec<_> = errors.iter().filter(|e| !e.contains("/api/me")).collect();
    assert!(
        unexpected.is_empty(),
        "console errors in {}: {unexpected:#?}",
        browser.label()
    );
    Ok(())
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
