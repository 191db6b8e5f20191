//! `cargo xtask test`: everything CI checks, each phase timed.

use crate::phase::{Phases, cargo};
use crate::{app, tools};

pub fn test(args: &[String]) -> anyhow::Result<()> {
    if let Some(unknown) = args.first() {
        anyhow::bail!("cargo xtask test takes no arguments (got {unknown:?})");
    }
    let mut phases = Phases::default();
    let result = all(&mut phases);
    phases.summary();
    result
}

fn all(phases: &mut Phases) -> anyhow::Result<()> {
    phases.time("install missing tools", || {
        tools::ensure_wasm_tools()?;
        tools::ensure_wasm_opt()?;
        tools::ensure_browser()
    })?;
    phases.run("format", cargo().args(["fmt", "--all", "--check"]))?;
    phases.run(
        "clippy (native)",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    phases.run(
        "clippy (wasm32)",
        cargo().args([
            "clippy",
            "-p",
            "baton-shared",
            "-p",
            "baton-app",
            "--all-targets",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    // One debug build of the server serves every suite that starts it.
    phases.run(
        "build the server",
        cargo().args(["build", "-p", "baton-server", "--bin", "baton"]),
    )?;
    // The browser tests load dist/: the release build users get, wasm-opt included.
    phases.run(
        "build the app (trunk, release, wasm-opt)",
        &mut app::build_release()?,
    )?;
    // The end-to-end scenarios (tests/tests/e2e, every test named
    // `scenario_…`) get a phase of their own, so their time is on record.
    phases.run(
        "unit and integration tests",
        cargo().args(["test", "--workspace", "--", "--skip", "scenario_"]),
    )?;
    phases.run(
        "end-to-end scenarios in Chromium (two agents)",
        cargo().args(["test", "-p", "baton-tests", "--test", "e2e"]),
    )?;
    // IndexedDB only exists in a browser: these run in headless Chromium
    // (app/webdriver.json holds its flags).
    phases.run(
        "app in headless Chromium (wasm-bindgen-test)",
        cargo()
            .args([
                "test",
                "-p",
                "baton-app",
                "--target",
                "wasm32-unknown-unknown",
                "--lib",
            ])
            .env("CHROMEDRIVER", "chromedriver"),
    )?;
    phases.run(
        "shared rules in wasm32 (node)",
        cargo().args([
            "test",
            "-p",
            "baton-shared",
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "everywhere",
        ]),
    )?;
    Ok(())
}
