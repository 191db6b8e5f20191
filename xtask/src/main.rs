//! `cargo xtask`: installs what Baton needs, runs it, tests it.
//!
//! - `cargo xtask run`  — build the app and start the server with a demo workspace
//! - `cargo xtask test` — formatting, lints, unit, integration, wasm and browser tests
//! - `cargo xtask browsers` — only the end-to-end scenarios, in every browser
//! - `cargo xtask bench` — measure Baton against a stock automerge-repo server, and on
//!   SQLite and PostgreSQL with one and two nodes; writes BENCHMARKS.md

mod app;
mod bench;
mod browsers;
mod phase;
mod precompress;
mod run;
mod test;
mod tools;

use std::path::{Path, PathBuf};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test::test(&args[1..]),
        Some("browsers") => test::browsers(&args[1..]),
        Some("install") => tools::install_all(),
        Some("bench") => bench::bench(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n\
                 commands:\n  \
                 run       build the app and start Baton with a demo workspace\n  \
                 test      formatting, clippy, unit, integration, wasm and browser tests\n  \
                 browsers  only the end-to-end scenarios in every browser (the app and\n            \
                           the server built as `test` builds them)\n  \
                 bench     measure latency, throughput, bulk, reconnect, memory and start\n            \
                           against a stock automerge-repo server, and Baton on SQLite and\n            \
                           on PostgreSQL with one and two nodes (cluster); writes BENCHMARKS.md\n            \
                           (`cargo xtask bench latency reconnect` runs only those,\n            \
                           `cargo xtask bench report` only writes the report)\n  \
                 install   install the build tools (wasm target, trunk, wasm-bindgen-cli,\n            \
                           wasm-opt) and the browsers with their drivers"
            );
            std::process::exit(2);
        }
    };
    if let Err(err) = result {
        eprintln!("\nxtask: {err:#}");
        std::process::exit(1);
    }
}

/// The workspace root (the parent of `xtask/`). `cargo run` names the
/// manifest's directory at run time too, which wins over the one compiled in:
/// two clones sharing a target directory share this binary.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the root) or
/// `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root().join(dir),
        None => root().join("target"),
    }
}
