//! Real browsers for end-to-end tests, over WebDriver: Chromium, Firefox
//! and WebKit (the engine of Safari), one per agent, each with its own
//! driver process and a fresh profile, so two agents run side by side in
//! the same or different engines, at a desktop's size or a phone's. Waits
//! are conditions with a deadline, never fixed sleeps; screenshots and the
//! browser console go to `target/e2e/`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use baton_tests::browser::{Browser, Engine, Screen, WAIT, step};
//! # let server_url = "http://127.0.0.1:8080";
//! let ana = Browser::open_in(Engine::Firefox, Screen::Phone, server_url, "smoke-ana").await?;
//! step("the app boots", &[&ana], async {
//!     ana.goto("/").await?;
//!     ana.wait_for_text("[data-testid=server-status]", "Server: ok", WAIT).await?;
//!     Ok(())
//! })
//! .await?;
//! ana.screenshot("booted").await?;
//! ana.close().await
//! # }
//! ```

pub mod app;
mod artifacts;
mod console;
mod driver;
mod engine;
mod touch;
mod wait;
mod xvfb;

pub use artifacts::{e2e_dir, slug, step};
pub use engine::{Engine, Screen};
pub use wait::{wait_for_value, wait_until};

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use thirtyfour::{By, WebDriver, WebElement};

use driver::Driver;
use xvfb::Xvfb;

/// The usual deadline for something to show up on screen.
pub const WAIT: Duration = Duration::from_secs(10);

/// One browser showing pages of one origin (the server, or an agent's
/// [`crate::proxy::Proxy`]).
pub struct Browser {
    /// `None` once closed. Fields drop in order: the driver (and the
    /// browser with it), then the display, then the profile directory.
    driver: Option<WebDriver>,
    process: Driver,
    _display: Option<Xvfb>,
    _profile: tempfile::TempDir,
    engine: Engine,
    screen: Screen,
    base_url: String,
    label: String,
    /// Every console entry read so far (reading drains Chromium's buffer).
    console: Mutex<Vec<String>>,
}

impl Browser {
    /// Opens a headless Chromium at desktop size: [`Browser::open_in`].
    pub async fn open(base_url: &str, label: &str) -> anyhow::Result<Browser> {
        Self::open_in(Engine::Chromium, Screen::Desktop, base_url, label).await
    }

    /// Opens `engine` with a `screen`-sized window (fresh profile, console
    /// captured) whose relative paths load from `base_url`. `label` names
    /// its files under `target/e2e/<label>/`, which is emptied first.
    pub async fn open_in(
        engine: Engine,
        screen: Screen,
        base_url: &str,
        label: &str,
    ) -> anyhow::Result<Browser> {
        let dir = e2e_dir().join(slug(label));
        let _ = std::fs::remove_dir_all(&dir);
        let (width, height) = engine.window(screen);
        let mut env = Vec::new();
        let display = match engine.needs_display() {
            true => Some(Xvfb::start(width, height).await?),
            false => None,
        };
        if let Some(display) = &display {
            env.push(("DISPLAY", display.display.clone()));
        }
        let process = Driver::start(engine, &dir, &env).await?;
        let profile = tempfile::Builder::new()
            .prefix(&format!("baton-{}-", engine.name()))
            .tempdir()?;
        let caps = engine.capabilities(screen, profile.path())?;
        let driver = WebDriver::new(process.url.clone(), caps)
            .await
            .with_context(|| {
                format!(
                    "{engine:?} did not start for {label}; see {}",
                    process.log.display()
                )
            })?;
        if engine != Engine::Chromium {
            driver
                .set_window_rect(0, 0, width, height)
                .await
                .with_context(|| format!("sizing {label}'s window"))?;
        }
        let browser = Browser {
            driver: Some(driver),
            process,
            _display: display,
            _profile: profile,
            engine,
            screen,
            base_url: base_url.trim_end_matches('/').to_owned(),
            label: label.to_owned(),
            console: Mutex::new(Vec::new()),
        };
        if screen == Screen::Phone {
            browser.check_viewport().await?;
        }
        Ok(browser)
    }

    /// Fails unless a page (that asks for the device's width, as the app
    /// does) gets the screen's size in CSS pixels, to a pixel.
    async fn check_viewport(&self) -> anyhow::Result<()> {
        let (width, height) = self.engine.page_size(self.screen);
        self.goto_url("data:text/html,<meta name=viewport content='width=device-width'>")
            .await?;
        let seen = self
            .script("return [window.innerWidth, window.innerHeight]", vec![])
            .await?;
        let seen: (i64, i64) = serde_json::from_value(seen)?;
        anyhow::ensure!(
            (seen.0 - i64::from(width)).abs() <= 1 && (seen.1 - i64::from(height)).abs() <= 1,
            "{}'s page is {}×{}, not {width}×{height}",
            self.label,
            seen.0,
            seen.1
        );
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }

    /// The name its files are saved under.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The WebDriver session, for what these helpers do not cover.
    pub fn driver(&self) -> anyhow::Result<&WebDriver> {
        self.driver.as_ref().context("the browser is closed")
    }

    /// Where this browser's screenshots and console logs go.
    pub fn artifacts_dir(&self) -> PathBuf {
        e2e_dir().join(slug(&self.label))
    }

    /// Loads `path` (e.g. `/` or `/inbox/mine`) from the browser's origin.
    pub async fn goto(&self, path: &str) -> anyhow::Result<()> {
        self.goto_url(&format!("{}{path}", self.base_url)).await
    }

    /// Loads an absolute URL (a page of another origin).
    pub async fn goto_url(&self, url: &str) -> anyhow::Result<()> {
        self.driver()?
            .goto(url)
            .await
            .with_context(|| format!("{} could not load {url}", self.label))?;
        self.keep_console().await
    }

    /// Reloads the page as a person does, through the service worker
    /// (Firefox's WebDriver refresh bypasses it), and waits for the new
    /// document to load.
    pub async fn reload(&self) -> anyhow::Result<()> {
        self.script(
            "window.__batonBeforeReload = true; setTimeout(() => location.reload(), 0)",
            vec![],
        )
        .await?;
        let what = format!("{} to load the page again", self.label);
        // Errors while the old page goes count as "not yet".
        wait_until(&what, WAIT, async || {
            let fresh = self
                .script(
                    "return !window.__batonBeforeReload && document.readyState === 'complete'",
                    vec![],
                )
                .await?;
            Ok(fresh == serde_json::Value::Bool(true))
        })
        .await?;
        self.keep_console().await
    }

    /// The first displayed element matching `css`, if any, now.
    pub async fn find_displayed(&self, css: &str) -> anyhow::Result<Option<WebElement>> {
        for element in self.driver()?.find_all(By::Css(css)).await? {
            if element.is_displayed().await.unwrap_or(false) {
                return Ok(Some(element));
            }
        }
        Ok(None)
    }

    /// Waits until an element matching `css` is displayed.
    pub async fn wait_for(&self, css: &str, within: Duration) -> anyhow::Result<WebElement> {
        let what = format!("`{css}` to show in {}", self.label);
        let (element, _) =
            wait_for_value(&what, within, async || self.find_displayed(css).await).await?;
        Ok(element)
    }

    /// Waits until no displayed element matches `css`.
    pub async fn wait_gone(&self, css: &str, within: Duration) -> anyhow::Result<Duration> {
        let what = format!("`{css}` to leave {}", self.label);
        wait_until(&what, within, async || {
            Ok(self.find_displayed(css).await?.is_none())
        })
        .await
    }

    /// Waits until the element at `css` shows exactly `expected` (trimmed);
    /// returns how long it took.
    pub async fn wait_for_text(
        &self,
        css: &str,
        expected: &str,
        within: Duration,
    ) -> anyhow::Result<Duration> {
        let what = format!("`{css}` in {} to read {expected:?}", self.label);
        let mut seen = String::new();
        let result = wait_until(&what, within, async || {
            let Some(element) = self.find_displayed(css).await? else {
                return Ok(false);
            };
            seen = element.text().await?.trim().to_owned();
            Ok(seen == expected)
        })
        .await;
        result.with_context(|| format!("it read {seen:?}"))
    }

    /// The trimmed text of the element at `css` (waiting for it to show).
    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        let element = self.wait_for(css, WAIT).await?;
        Ok(element.text().await?.trim().to_owned())
    }

    /// The text content of the first element matching `css` now, shown or
    /// not (an empty live region has nothing to show); "" if none matches.
    pub async fn text_now(&self, css: &str) -> anyhow::Result<String> {
        let text = self
            .script(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : ''",
                vec![serde_json::Value::from(css)],
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().trim().to_owned())
    }

    /// An attribute of the element at `css` (waiting for it to show).
    pub async fn attr(&self, css: &str, name: &str) -> anyhow::Result<Option<String>> {
        let element = self.wait_for(css, WAIT).await?;
        Ok(element.attr(name).await?)
    }

    /// How many elements match `css` now, displayed or not.
    pub async fn count(&self, css: &str) -> anyhow::Result<usize> {
        Ok(self.driver()?.find_all(By::Css(css)).await?.len())
    }

    /// Clicks the element at `css` once it shows and takes the click (an
    /// overlay or a re-render may refuse it for a moment).
    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        let what = format!("`{css}` in {} to take a click", self.label);
        wait_until(&what, WAIT, async || {
            let Some(element) = self.find_displayed(css).await? else {
                return Ok(false);
            };
            element.click().await?;
            Ok(true)
        })
        .await?;
        Ok(())
    }

    /// Clicks the element at `css` once, now: fails if anything covers it
    /// (where [`Browser::click`] would wait for it to be free).
    pub async fn click_once(&self, css: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css, WAIT).await?;
        element
            .click()
            .await
            .with_context(|| format!("one click on `{css}` in {}", self.label))
    }

    /// Replaces the text of the field at `css` with `text`, as typed keys.
    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css, WAIT).await?;
        element.clear().await?;
        element
            .send_keys(text)
            .await
            .with_context(|| format!("typing into `{css}` in {}", self.label))
    }

    /// Presses one key (e.g. `Key::Escape`, or a letter for a shortcut) on
    /// whatever has focus.
    pub async fn press(&self, key: impl Into<char>) -> anyhow::Result<()> {
        let key = key.into();
        Ok(self
            .driver()?
            .action_chain()
            .key_down(key)
            .key_up(key)
            .perform()
            .await?)
    }

    /// Runs JavaScript in the page and returns its value.
    pub async fn script(
        &self,
        js: &str,
        args: Vec<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let answer = self.driver()?.execute(js, args).await?;
        Ok(answer.json().clone())
    }

    /// Runs asynchronous JavaScript: it answers by calling its last argument.
    pub async fn script_async(
        &self,
        js: &str,
        args: Vec<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let answer = self.driver()?.execute_async(js, args).await?;
        Ok(answer.json().clone())
    }

    /// Saves a screenshot as `target/e2e/<label>/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self.driver()?.screenshot_as_png().await?;
        let dir = self.artifacts_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}.png", slug(name)));
        std::fs::write(&path, png).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// Saves the console as `target/e2e/<label>/<name>.console.txt`.
    pub async fn save_console(&self, name: &str) -> anyhow::Result<PathBuf> {
        let lines = self.console().await?;
        let dir = self.artifacts_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}.console.txt", slug(name)));
        std::fs::write(&path, lines.join("\n") + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// Quits the browser and its driver. A browser dropped without `close`
    /// (a failed test) is killed with the driver's process group instead.
    pub async fn close(mut self) -> anyhow::Result<()> {
        if let Some(driver) = self.driver.take() {
            driver.quit().await?;
        }
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // thirtyfour's fallback quits the session synchronously, and stalls
        // for its two-minute request timeout when dropped inside a failing
        // test; killing the driver's process group ends the browser at once.
        if let Some(driver) = self.driver.take() {
            std::mem::forget(driver);
        }
    }
}
