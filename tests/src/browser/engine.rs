//! The three browser engines the app is tested in, each with its WebDriver
//! server and the capabilities that make it headless (or on Xvfb), quiet,
//! and the size of a desktop window or of a phone.

use std::path::Path;

use anyhow::Context;
use serde_json::{Value, json};
use thirtyfour::{
    Capabilities, ChromiumLikeCapabilities, DesiredCapabilities, LoggingPrefsLogLevel,
};

/// A browser engine: Chromium (Chrome, Edge), Gecko (Firefox) or WebKit
/// (Safari; here WebKitGTK's MiniBrowser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Chromium,
    Firefox,
    WebKit,
}

/// The window a browser opens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// 1400×900.
    Desktop,
    /// 390×844, a phone held upright; Chromium also emulates touch and a
    /// phone's pixel ratio.
    Phone,
}

impl Screen {
    pub fn size(self) -> (u32, u32) {
        match self {
            Screen::Desktop => (1400, 900),
            Screen::Phone => (390, 844),
        }
    }
}

const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// MiniBrowser's window is never narrower than this (its toolbar), and its
/// page is shorter than the window by the toolbar.
const MINIBROWSER_MIN_WIDTH: u32 = 447;
const MINIBROWSER_TOOLBAR: u32 = 39;

/// MiniBrowser's own build, from Debian's libwebkit2gtk-4.1.
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

fn env_or(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_owned())
}

impl Engine {
    pub const ALL: [Engine; 3] = [Engine::Chromium, Engine::Firefox, Engine::WebKit];

    /// Lower case, for file names: `chromium`, `firefox`, `webkit`.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromium",
            Engine::Firefox => "firefox",
            Engine::WebKit => "webkit",
        }
    }

    pub(super) fn driver_name(self) -> &'static str {
        match self {
            Engine::Chromium => "chromedriver",
            Engine::Firefox => "geckodriver",
            Engine::WebKit => "webkitwebdriver",
        }
    }

    /// The driver to run: `BATON_CHROMEDRIVER`, `BATON_GECKODRIVER` or
    /// `BATON_WEBKITDRIVER`, else the one on PATH.
    pub(super) fn driver_program(self) -> String {
        match self {
            Engine::Chromium => env_or("BATON_CHROMEDRIVER", "chromedriver"),
            Engine::Firefox => env_or("BATON_GECKODRIVER", "geckodriver"),
            Engine::WebKit => env_or("BATON_WEBKITDRIVER", "WebKitWebDriver"),
        }
    }

    pub(super) fn install_hint(self) -> &'static str {
        match self {
            Engine::Chromium => "Debian's chromium and chromium-driver",
            Engine::Firefox => "Debian's firefox-esr and `cargo install geckodriver --locked`",
            Engine::WebKit => "Debian's webkit2gtk-driver and xvfb",
        }
    }

    pub(super) fn driver_args(self, port: u16, log: &Path) -> anyhow::Result<Vec<String>> {
        Ok(match self {
            Engine::Chromium => vec![
                format!("--port={port}"),
                format!("--log-path={}", log.display()),
            ],
            // Every Firefox needs its own BiDi port (9222 by default).
            Engine::Firefox => vec![
                "--port".into(),
                port.to_string(),
                "--websocket-port".into(),
                super::driver::free_port()?.to_string(),
            ],
            Engine::WebKit => vec![format!("--port={port}")],
        })
    }

    /// Whether the engine draws on an X display (then the harness gives
    /// each browser its own Xvfb).
    pub(super) fn needs_display(self) -> bool {
        self == Engine::WebKit
    }

    /// The page size `screen` gets in this engine, in CSS pixels: its own,
    /// but in WebKit no narrower than MiniBrowser's window can be (447 px;
    /// zooming the page instead makes WebKitWebDriver click beside the
    /// element).
    pub fn page_size(self, screen: Screen) -> (u32, u32) {
        let (width, height) = screen.size();
        match self {
            Engine::WebKit => (width.max(MINIBROWSER_MIN_WIDTH), height),
            _ => (width, height),
        }
    }

    /// The window to ask for so that the page gets [`Engine::page_size`].
    pub(super) fn window(self, screen: Screen) -> (u32, u32) {
        let (width, height) = self.page_size(screen);
        match self {
            Engine::WebKit => (width, height + MINIBROWSER_TOOLBAR),
            _ => (width, height),
        }
    }

    /// The capabilities of a new session in a fresh profile at `profile`.
    pub(super) fn capabilities(
        self,
        screen: Screen,
        profile: &Path,
    ) -> anyhow::Result<Capabilities> {
        let (width, height) = screen.size();
        Ok(match self {
            Engine::Chromium => {
                let mut caps = DesiredCapabilities::chrome();
                for arg in CHROMIUM_ARGS {
                    caps.add_arg(arg)?;
                }
                caps.add_arg(&format!("--user-data-dir={}", profile.display()))?;
                if screen == Screen::Desktop {
                    caps.add_arg(&format!("--window-size={width},{height}"))?;
                } else {
                    caps.add_experimental_option(
                        "mobileEmulation",
                        json!({
                            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 3.0, "touch": true},
                            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                                (KHTML, like Gecko) Chrome/140.0 Mobile Safari/537.36",
                        }),
                    )?;
                }
                if let Ok(binary) = std::env::var("BATON_CHROMIUM") {
                    caps.set_binary(&binary)?;
                }
                caps.set_browser_log_level(LoggingPrefsLogLevel::All)?;
                caps.into()
            }
            Engine::Firefox => {
                let options = json!({
                    "binary": env_or("BATON_FIREFOX", "firefox-esr"),
                    "args": ["-headless", "-profile", profile.display().to_string()],
                    "prefs": {
                        // The page's console goes to geckodriver's log.
                        "devtools.console.stdout.content": true,
                        "browser.shell.checkDefaultBrowser": false,
                        "datareporting.policy.dataSubmissionEnabled": false,
                    },
                });
                capabilities("firefox", "moz:firefoxOptions", options)?
            }
            Engine::WebKit => {
                let options = json!({
                    "binary": env_or("BATON_MINIBROWSER", MINIBROWSER),
                    "args": ["--automation"],
                });
                capabilities("MiniBrowser", "webkitgtk:browserOptions", options)?
            }
        })
    }

    /// Whether a console line (as [`super::Browser::console`] gives it) is an
    /// error: an uncaught exception, `console.error`, a failed request.
    pub fn is_console_error(self, line: &str) -> bool {
        match self {
            Engine::Chromium => line.starts_with("SEVERE"),
            // Firefox's own chrome logs errors there too; the page's name its URL.
            Engine::Firefox => line.starts_with("JavaScript error: http"),
            Engine::WebKit => line.starts_with("ERROR"),
        }
    }
}

fn capabilities(browser: &str, key: &str, options: Value) -> anyhow::Result<Capabilities> {
    let mut caps = Capabilities::new();
    caps.set("browserName", browser)
        .and_then(|()| caps.set(key, options))
        .context("building capabilities")?;
    Ok(caps)
}
