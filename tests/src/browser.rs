//! Real Chromium for end-to-end tests, over WebDriver: one headless browser
//! per agent, each with its own chromedriver and a fresh profile, so two
//! agents run side by side. Waits are conditions with a deadline, never
//! fixed sleeps; screenshots and the browser console go to `target/e2e/`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use baton_tests::browser::{Browser, WAIT, step};
//! # let server_url = "http://127.0.0.1:8080";
//! let ana = Browser::open(server_url, "smoke-ana").await?;
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
mod chromedriver;

pub use artifacts::{e2e_dir, slug, step};

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use thirtyfour::{
    By, ChromiumLikeCapabilities, DesiredCapabilities, Key, LoggingPrefsLogLevel, WebDriver,
    WebElement,
};

use chromedriver::ChromeDriver;

/// The usual deadline for something to show up on screen.
pub const WAIT: Duration = Duration::from_secs(10);

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// Headless, quiet, and the same size on every machine.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,900",
];

/// One headless Chromium showing pages of one origin (the server, or an
/// agent's [`crate::proxy::Proxy`]).
pub struct Browser {
    /// `None` once closed. Fields drop in order: chromedriver (and Chromium
    /// with it) before the profile directory.
    driver: Option<WebDriver>,
    _chromedriver: ChromeDriver,
    _profile: tempfile::TempDir,
    base_url: String,
    label: String,
    /// Every console entry read so far (reading drains Chromium's buffer).
    console: Mutex<Vec<String>>,
}

/// Waits until `check` answers `Some`, looking again every 50 ms; an error
/// from `check` counts as "not yet" and is reported if the deadline passes.
/// Returns the value and how long it took.
pub async fn wait_for_value<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<(T, Duration)> {
    let started = Instant::now();
    let mut last_error = None;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok((value, started.elapsed())),
            Ok(None) => {}
            Err(err) => last_error = Some(err),
        }
        if started.elapsed() > within {
            let why = last_error.map_or(String::new(), |e| format!(" (last error: {e:#})"));
            bail!("waited {within:?} for {what}{why}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until `check` holds; returns how long it took (scenarios log it).
pub async fn wait_until(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<Duration> {
    let (_, took) = wait_for_value(what, within, async || Ok(check().await?.then_some(()))).await?;
    Ok(took)
}

impl Browser {
    /// Opens a headless Chromium (fresh profile, console captured) whose
    /// relative paths load from `base_url`. `label` names its files under
    /// `target/e2e/<label>/`, which is emptied first.
    pub async fn open(base_url: &str, label: &str) -> anyhow::Result<Browser> {
        let dir = e2e_dir().join(slug(label));
        let _ = std::fs::remove_dir_all(&dir);
        let chromedriver = ChromeDriver::start(&chromedriver::log_path(&dir)?).await?;
        let profile = tempfile::Builder::new()
            .prefix("baton-chromium-")
            .tempdir()?;
        let mut caps = DesiredCapabilities::chrome();
        for arg in CHROMIUM_ARGS {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))?;
        if let Ok(binary) = std::env::var("BATON_CHROMIUM") {
            caps.set_binary(&binary)?;
        }
        caps.set_browser_log_level(LoggingPrefsLogLevel::All)?;
        let driver = WebDriver::new(chromedriver.url.clone(), caps)
            .await
            .with_context(|| {
                format!(
                    "Chromium did not start for {label}; see {}",
                    dir.join("chromedriver.log").display()
                )
            })?;
        Ok(Browser {
            driver: Some(driver),
            _chromedriver: chromedriver,
            _profile: profile,
            base_url: base_url.trim_end_matches('/').to_owned(),
            label: label.to_owned(),
            console: Mutex::new(Vec::new()),
        })
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
        let url = format!("{}{path}", self.base_url);
        self.driver()?
            .goto(url.as_str())
            .await
            .with_context(|| format!("{} could not load {url}", self.label))
    }

    /// Loads an absolute URL (a page of another origin).
    pub async fn goto_url(&self, url: &str) -> anyhow::Result<()> {
        self.driver()?
            .goto(url)
            .await
            .with_context(|| format!("{} could not load {url}", self.label))
    }

    /// Reloads the current page.
    pub async fn reload(&self) -> anyhow::Result<()> {
        Ok(self.driver()?.refresh().await?)
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

    /// Shift+Click on the element at `css` (range selection).
    pub async fn shift_click(&self, css: &str) -> anyhow::Result<()> {
        let element = self.wait_for(css, WAIT).await?;
        self.driver()?
            .action_chain()
            .key_down(Key::Shift)
            .click_element(&element)
            .key_up(Key::Shift)
            .perform()
            .await
            .with_context(|| format!("Shift+Click on `{css}` in {}", self.label))
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

    /// Every console entry of this browser so far, as `LEVEL message`.
    pub async fn console(&self) -> anyhow::Result<Vec<String>> {
        let fresh = self.driver()?.browser_log().await?;
        let mut all = self.console.lock().unwrap_or_else(|e| e.into_inner());
        all.extend(
            fresh
                .into_iter()
                .map(|e| format!("{} {}", e.level, e.message)),
        );
        Ok(all.clone())
    }

    /// Console entries at error level (uncaught errors, failed requests).
    pub async fn console_errors(&self) -> anyhow::Result<Vec<String>> {
        let all = self.console().await?;
        Ok(all
            .into_iter()
            .filter(|e| e.starts_with("SEVERE"))
            .collect())
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

    /// Quits Chromium and chromedriver. A browser dropped without `close`
    /// (a failed test) is killed with chromedriver's process group instead.
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
        // test; killing chromedriver's process group ends Chromium at once.
        if let Some(driver) = self.driver.take() {
            std::mem::forget(driver);
        }
    }
}
