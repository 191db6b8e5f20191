//! Installs what the build needs when it is missing, and says so: the wasm32
//! target, trunk, the wasm-bindgen-cli equal to the pinned crate, wasm-opt
//! (Binaryen from npm, pinned in `xtask/wasm-opt`); the browsers are in
//! `browsers.rs`.

use std::path::PathBuf;
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
    ensure_wasm_opt()?;
    crate::browsers::ensure_all()
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

/// The npm package that pins Binaryen for release builds.
fn wasm_opt_package() -> PathBuf {
    crate::root().join("xtask").join("wasm-opt")
}

/// The directory holding the pinned `wasm-opt`; release builds put it
/// first on PATH.
pub fn wasm_opt_dir() -> PathBuf {
    wasm_opt_package().join("node_modules").join(".bin")
}

/// The Binaryen version `xtask/wasm-opt/package.json` pins.
fn binaryen_version() -> anyhow::Result<String> {
    let manifest = std::fs::read_to_string(wasm_opt_package().join("package.json"))?;
    manifest
        .lines()
        .find_map(|line| {
            let rest = line.trim().strip_prefix("\"binaryen\": \"")?;
            Some(rest.trim_end_matches([',', '"']).to_owned())
        })
        .context("xtask/wasm-opt/package.json must pin binaryen exactly")
}

/// wasm-opt for release builds: Binaryen compiled for Node.js, installed
/// from the lockfile with npm (Node.js runs it; no download at build time).
pub fn ensure_wasm_opt() -> anyhow::Result<()> {
    let version = binaryen_version()?;
    let major = version.split('.').next().unwrap_or_default();
    let wasm_opt = wasm_opt_dir().join("wasm-opt");
    let found = output(&wasm_opt.to_string_lossy(), &["--version"]).unwrap_or_default();
    if found.starts_with(&format!("wasm-opt version {major} ")) {
        return Ok(());
    }
    if output("npm", &["--version"]).is_none() || output("node", &["--version"]).is_none() {
        bail!(
            "wasm-opt for release builds comes from npm (binaryen {version}) and runs on \
             Node.js; install Node.js and npm and run again"
        );
    }
    println!("Installing wasm-opt (binaryen {version}, npm) into xtask/wasm-opt…");
    // `npm install` with the committed lockfile installs exactly the locked version.
    status(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(wasm_opt_package()),
    )
    .context("npm could not install binaryen for wasm-opt")
}

/// PostgreSQL's server binaries, for the suites that run on PostgreSQL (the
/// tests start a throwaway cluster of their own with them).
pub fn ensure_postgres() -> anyhow::Result<()> {
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .any(|entry| entry.path().join("bin").join("initdb").is_file());
    if found {
        return Ok(());
    }
    apt_install(&["postgresql"], "PostgreSQL (for the tests on PostgreSQL)")
}

/// Installs Debian packages: `apt-get update` first (a fresh machine has no
/// package lists), through sudo unless already root.
pub fn apt_install(packages: &[&str], what: &str) -> anyhow::Result<()> {
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
