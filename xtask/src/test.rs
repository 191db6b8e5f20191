//! `cargo xtask test`: everything CI checks, each phase timed.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

use crate::phase::{Lane, Phases, cargo};
use crate::{app, browsers, tools};

pub fn test(args: &[String]) -> anyhow::Result<()> {
    if let Some(unknown) = args.first() {
        anyhow::bail!("cargo xtask test takes no arguments (got {unknown:?})");
    }
    let mut phases = Phases::default();
    let result = all(&mut phases);
    phases.summary();
    result
}

/// `cargo xtask browsers`: the app, the server and the end-to-end
/// scenarios in every browser, nothing else (to run them again and again).
pub fn browsers(args: &[String]) -> anyhow::Result<()> {
    if let Some(unknown) = args.first() {
        anyhow::bail!("cargo xtask browsers takes no arguments (got {unknown:?})");
    }
    let mut phases = Phases::default();
    let result = (|| {
        phases.time("install missing tools", || {
            tools::ensure_wasm_tools()?;
            tools::ensure_wasm_opt()?;
            browsers::ensure_all()
        })?;
        phases.run(
            "build the server",
            cargo().args(["build", "-p", "baton-server", "--bin", "baton"]),
        )?;
        app::build(&mut phases)?;
        browser_phases(&mut phases)
    })();
    phases.summary();
    result
}

/// The suites that run a second time on PostgreSQL (each test's data
/// directory gets its own database on a throwaway cluster), the cluster
/// suite among them.
const ON_POSTGRES: &[&str] = &[
    "adversary",
    "api_admin",
    "api_inbox",
    "api_session",
    "cli",
    "cluster",
    "durability",
    "store",
    "sync_durability",
    "sync_fetch",
    "sync_live",
    "sync_security",
    "workflows",
];

fn all(phases: &mut Phases) -> anyhow::Result<()> {
    phases.time("install missing tools", || {
        tools::ensure_wasm_tools()?;
        tools::ensure_wasm_opt()?;
        tools::ensure_postgres()?;
        browsers::ensure_all()
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
    app::build(phases)?;
    // The end-to-end scenarios (tests/tests/e2e, every test named
    // `scenario_…`) get a phase of their own, so their time is on record.
    phases.run(
        "unit and integration tests",
        cargo().args(["test", "--workspace", "--", "--skip", "scenario_"]),
    )?;
    let mut on_postgres = cargo();
    on_postgres
        .args(["test", "-p", "baton-tests"])
        .env("BATON_TEST_BACKEND", "postgres");
    for suite in ON_POSTGRES {
        on_postgres.args(["--test", suite]);
    }
    phases.run(
        "integration and cluster tests on PostgreSQL",
        &mut on_postgres,
    )?;
    browser_phases(phases)?;
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

/// The end-to-end scenarios (tests/tests/e2e, every test named `scenario_…`)
/// in phases of their own, one per engine leading, so each engine's time is
/// on record: scenarios 1–5 with Ana in that engine and Ben in the next
/// one, and what runs in one engine only. Two lanes side by side, one
/// scenario each at a time: the two cores hold four browsers and two
/// servers without timing out.
fn browser_phases(phases: &mut Phases) -> anyhow::Result<()> {
    let e2e = phases.time("build the end-to-end scenarios", e2e_binary)?;
    let run = |filters: &[&str]| {
        let mut command = Command::new(&e2e);
        command
            .args(filters)
            .arg("--test-threads=1")
            .current_dir(crate::root().join("tests"));
        command
    };
    let lanes: Vec<Lane> = vec![
        vec![
            (
                "browsers: Chromium (Ana) with Firefox (Ben), scenarios 1–5".to_owned(),
                run(&["chromium_firefox::"]),
            ),
            (
                "browsers: Firefox (Ana) with WebKit (Ben), scenarios 1–5".to_owned(),
                run(&["firefox_webkit::"]),
            ),
        ],
        vec![
            (
                "browsers: WebKit (Ana) with Chromium (Ben), scenarios 1–5; WebKit on a phone"
                    .to_owned(),
                run(&["webkit_chromium::", "only_webkit::"]),
            ),
            (
                "browsers: Chromium only, scenarios 6–11 (phone, accessibility)".to_owned(),
                run(&["only_chromium::"]),
            ),
        ],
    ];
    phases.lanes(lanes, &crate::target_dir().join("e2e").join("phases"))
}

/// Builds the e2e test binary and says where it is.
fn e2e_binary() -> anyhow::Result<PathBuf> {
    let out = cargo()
        .args([
            "test",
            "-p",
            "baton-tests",
            "--test",
            "e2e",
            "--no-run",
            "--message-format=json",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .context("cannot run cargo to build the end-to-end scenarios")?;
    anyhow::ensure!(
        out.status.success(),
        "building the end-to-end scenarios failed"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|msg| msg["reason"] == "compiler-artifact" && msg["target"]["name"] == "e2e")
        .find_map(|msg| msg["executable"].as_str().map(PathBuf::from))
        .context("cargo named no e2e test binary")
}
