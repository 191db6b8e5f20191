//! Installs what the build needs when it is missing, and says so: the wasm32
//! target, trunk, the wasm-bindgen-cli equal to the pinned crate and, for
//! browser tests, Debian chromium + chromedriver.

use std::process::Command;

use anyhow::{Context, bail};

use crate::phase::{cargo, output, status};

pub const TRUNK_VERSION: &str = "0.21.14";

/// The `wasm-bindgen` version pinned in the workspace `Cargo.toml` (`=x.y.z`).
pub fn wasm_bindgen_version() -> anyhow::Result<String> {
    let manifest = std::fs::read_to_string(crate::root().join("Cargo.toml"))?;
    manifest
        .lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix("wasm-bindgen = \"=")?;
            Some(rest.trim_end_matches('"').to_owned())
        })
        .context("Cargo.toml must pin wasm-bindgen exactly (wasm-bindgen = \"=x.y.z\")")
}

/// Everything `run` and `test` need for the app's wasm build.
pub fn ensure_wasm_tools() -> anyhow::Result<()> {
    ensure_wasm_target()?;
    ensure_trunk()?;
    ensure_wasm_bindgen()
}

pub fn install_all() -> anyhow::Result<()> {
    ensure_wasm_tools()?;
    ensure_browser()
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|t| t == "wasm32-unknown-unknown") {
        return Ok(());
    }
    println!("Installing the wasm32-unknown-unknown target (rustup)…");
    status(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn ensure_trunk() -> anyhow::Result<()> {
    let found = output("trunk", &["--version"]).unwrap_or_default();
    if found.ends_with(TRUNK_VERSION) {
        return Ok(());
    }
    println!("Installing trunk {TRUNK_VERSION} (cargo install, a few minutes the first time)…");
    status(cargo().args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
}

fn ensure_wasm_bindgen() -> anyhow::Result<()> {
    let version = wasm_bindgen_version()?;
    let found = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if found == format!("wasm-bindgen {version}") {
        return Ok(());
    }
    println!("Installing wasm-bindgen-cli {version} to match the wasm-bindgen crate…");
    // `--locked` fails for this crate's published lockfile; resolve afresh.
    status(cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))
}

/// Debian chromium and chromedriver for the browser tests.
pub fn ensure_browser() -> anyhow::Result<()> {
    let have = output("chromium", &["--version"]).is_some()
        && output("chromedriver", &["--version"]).is_some();
    if have {
        return Ok(());
    }
    apt_install(
        &["chromium", "chromium-driver"],
        "Chromium and ChromeDriver (for the browser tests)",
    )
}

/// Installs Debian packages: `apt-get update` first (a fresh machine has no
/// package lists), through sudo unless already root.
fn apt_install(packages: &[&str], what: &str) -> anyhow::Result<()> {
    let yourself = || {
        format!(
            "install {} yourself (e.g. `sudo apt-get install {}`) and run again",
            what,
            packages.join(" ")
        )
    };
    if output("apt-get", &["--version"]).is_none() {
        bail!(
            "{what} is missing and apt-get is not available; {}",
            yourself()
        );
    }
    let root = output("id", &["-u"]).as_deref() == Some("0");
    if !root && output("sudo", &["-n", "true"]).is_none() {
        bail!(
            "{what} is missing and installing it needs root (sudo is not available \
             without a password); {}",
            yourself()
        );
    }
    println!("Installing {what} with apt-get…");
    let apt = |args: &[&str]| {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "apt-get"]);
            sudo
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        status(&mut command)
    };
    apt(&["update", "-q"]).with_context(|| format!("apt-get update failed; {}", yourself()))?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend_from_slice(packages);
    apt(&args).with_context(|| format!("could not install {what}; {}", yourself()))
}
