//! `cargo xtask test`: everything CI checks, each phase timed.

use std::process::Command;

use crate::phase::{Phases, cargo};
use crate::tools;

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
    phases.time("install missing tools", tools::ensure_wasm_tools)?;
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
    phases.run(
        "unit and integration tests",
        cargo().args(["test", "--workspace"]),
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
    phases.run(
        "app wasm build (trunk)",
        Command::new("trunk")
            .arg("build")
            .current_dir(crate::root()),
    )?;
    Ok(())
}
