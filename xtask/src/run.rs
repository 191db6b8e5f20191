//! `cargo xtask run`: build the app and start Baton with a demo workspace.

use std::process::Command;

use crate::phase::{Phases, cargo, status};
use crate::{app, tools};

pub fn run(args: &[String]) -> anyhow::Result<()> {
    // `cargo xtask run -- --demo-rate 0`: what follows `--` goes to `baton serve`.
    let args = match args.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => args,
    };
    let mut phases = Phases::default();
    phases.time("install missing tools", || {
        tools::ensure_wasm_tools()?;
        tools::ensure_wasm_opt()
    })?;
    app::build(&mut phases)?;
    // The server people run is optimized for speed (the `server` profile);
    // tests use the debug build.
    phases.run(
        "build the server (optimized)",
        cargo().args([
            "build",
            "--profile",
            "server",
            "-p",
            "baton-server",
            "--bin",
            "baton",
        ]),
    )?;
    phases.summary();
    println!("\nStarting Baton with the demo workspace in ./data (Ctrl-C stops it)…\n");
    let mut serve = Command::new(crate::target_dir().join("server").join("baton"));
    serve
        .args(["--data", "data", "serve", "--demo", "--dist", "dist"])
        .args(args);
    status(serve.current_dir(crate::root()))
}
