//! The browsers the tests drive, with their WebDriver servers: Debian's
//! Chromium + chromedriver, Firefox ESR + geckodriver (built from crates.io),
//! and WebKitGTK's WebKitWebDriver + MiniBrowser, which draws on Xvfb.

use std::path::Path;
use std::thread;

use anyhow::Context;

use crate::phase::{cargo, output, status};
use crate::tools::apt_install;

/// geckodriver is not packaged by Debian: `cargo install` builds it.
pub const GECKODRIVER_VERSION: &str = "0.37.1";

/// WebKitWebDriver's browser, from libwebkit2gtk-4.1 (a dependency of
/// webkit2gtk-driver).
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// Chromium and chromedriver (what the benchmarks and the wasm tests need).
pub fn ensure_chromium() -> anyhow::Result<()> {
    let missing = missing_packages(&[
        ("chromium", "chromium"),
        ("chromedriver", "chromium-driver"),
    ]);
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(
        &missing,
        "Chromium and ChromeDriver (for the browser tests)",
    )
}

/// Every engine the browser tests run in. geckodriver builds (a few
/// minutes) while apt-get installs the rest.
pub fn ensure_all() -> anyhow::Result<()> {
    let gecko = thread::spawn(ensure_geckodriver);
    let mut missing = missing_packages(&[
        ("chromium", "chromium"),
        ("chromedriver", "chromium-driver"),
        ("firefox-esr", "firefox-esr"),
        ("WebKitWebDriver", "webkit2gtk-driver"),
        ("Xvfb", "xvfb"),
    ]);
    if !Path::new(MINIBROWSER).exists() && !missing.contains(&"webkit2gtk-driver") {
        missing.push("webkit2gtk-driver");
    }
    let apt = if missing.is_empty() {
        Ok(())
    } else {
        apt_install(
            &missing,
            "the browsers for the browser tests (Chromium, Firefox ESR, WebKitGTK, Xvfb)",
        )
    };
    let gecko = gecko
        .join()
        .map_err(|_| anyhow::anyhow!("installing geckodriver panicked"))?;
    apt.and(gecko)
}

/// The Debian packages of the programs that do not answer `--version`.
fn missing_packages(wanted: &[(&str, &'static str)]) -> Vec<&'static str> {
    let mut missing: Vec<&'static str> = wanted
        .iter()
        .filter(|(program, _)| !answers(program))
        .map(|(_, package)| *package)
        .collect();
    missing.dedup();
    missing
}

fn answers(program: &str) -> bool {
    // Xvfb has no --version that exits 0 everywhere; -help does.
    let flag = if program == "Xvfb" {
        "-help"
    } else {
        "--version"
    };
    std::process::Command::new(program)
        .arg(flag)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ensure_geckodriver() -> anyhow::Result<()> {
    let found = output("geckodriver", &["--version"]).unwrap_or_default();
    if found.starts_with(&format!("geckodriver {GECKODRIVER_VERSION}")) {
        return Ok(());
    }
    println!("Installing geckodriver {GECKODRIVER_VERSION} (cargo install, a few minutes)…");
    status(cargo().args([
        "install",
        "geckodriver",
        "--version",
        GECKODRIVER_VERSION,
        "--locked",
        "--quiet",
    ]))
    .context("cargo could not install geckodriver")
}
