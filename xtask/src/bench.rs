//! `cargo xtask bench`: builds the server with the `bench-server` profile and
//! the load generator, installs the peer (a stock automerge-repo sync
//! server in `bench/peer/`) and, for the cluster measurement, PostgreSQL,
//! runs every measurement — each writes `target/bench/<name>.json`, stamped
//! with when and where it ran — and merges them into `BENCHMARKS.md` and
//! `bench/results/latest.json` (docs/benchmarks.md describes both).

mod report;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::phase::{Phases, cargo, status};

/// What runs, in order; each entry writes `target/bench/<name>.json`.
enum Measurement {
    /// A measurement of `baton-bench` (server, sync protocol, the peer).
    Server(&'static str),
    /// A measurement made by a function here, given the fragment directory.
    Local(&'static str, fn(&Path) -> anyhow::Result<()>),
}

const MEASUREMENTS: &[Measurement] = &[
    Measurement::Server("latency"),
    Measurement::Server("throughput"),
    Measurement::Server("bulk"),
    Measurement::Server("reconnect"),
    Measurement::Server("memory"),
    Measurement::Server("start"),
    Measurement::Local("app", measure_app),
    Measurement::Server("cluster"),
];

/// The app's figures (`tests/src/bin/app-bench.rs`): the release bundle and
/// headless Chromium against the `bench-server` build with a large demo.
fn measure_app(out: &Path) -> anyhow::Result<()> {
    crate::tools::ensure_wasm_tools()?;
    crate::tools::ensure_wasm_opt()?;
    crate::browsers::ensure_chromium()?;
    status(&mut crate::app::build_release()?)?;
    crate::precompress::dist(&crate::root().join("dist"))?;
    // The same app with its function names kept, for Automerge's share.
    let named = crate::target_dir().join("bench-wasm-names");
    status(
        cargo()
            .args([
                "build",
                "-p",
                "baton-app",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env("CARGO_TARGET_DIR", &named)
            .env("CARGO_PROFILE_RELEASE_STRIP", "none"),
    )?;
    status(cargo().args(["build", "-p", "baton-tests", "--bin", "app-bench"]))?;
    let baton = crate::target_dir().join("bench-server").join("baton");
    status(
        Command::new(crate::target_dir().join("debug").join("app-bench"))
            .arg("--named-wasm")
            .arg(named.join("wasm32-unknown-unknown/release/baton-app.wasm"))
            .args(["--runs", "2", "--conversations", "10000", "--out"])
            .arg(out)
            .env("BATON_BIN", baton)
            .env("RUST_LOG", "warn")
            .current_dir(crate::root()),
    )
}

pub fn bench(args: &[String]) -> anyhow::Result<()> {
    if args.first().is_some_and(|a| a == "report") {
        // Only merge the fragments already in target/bench.
        return report::write(&crate::target_dir().join("bench"), &crate::root());
    }
    let only: Vec<&str> = args.iter().map(String::as_str).collect();
    if let Some(unknown) = only
        .iter()
        .find(|n| !MEASUREMENTS.iter().any(|m| name(m) == **n))
    {
        anyhow::bail!("no measurement named {unknown:?}");
    }
    let mut phases = Phases::default();
    let result = all(&mut phases, &only);
    phases.summary();
    result
}

fn name(measurement: &Measurement) -> &'static str {
    match measurement {
        Measurement::Server(name) | Measurement::Local(name, _) => name,
    }
}

fn all(phases: &mut Phases, only: &[&str]) -> anyhow::Result<()> {
    let root = crate::root();
    let out = crate::target_dir().join("bench");
    let mut peer = None;
    phases.time("install the peer (npm in bench/peer)", || {
        peer = install_peer(&root.join("bench/peer"));
        Ok(())
    })?;
    phases.run(
        "build the server (profile bench-server) and the load generator",
        cargo().args([
            "build",
            "--profile",
            "bench-server",
            "-p",
            "baton-server",
            "--bin",
            "baton",
            "-p",
            "baton-bench",
            "--bin",
            "baton-bench",
        ]),
    )?;
    let binaries = crate::target_dir().join("bench-server");
    if only.is_empty() || only.contains(&"cluster") {
        phases.time("PostgreSQL for the cluster measurement", || {
            crate::tools::ensure_postgres()
        })?;
    }
    if only.is_empty() {
        clear_fragments(&out)?;
    }
    // A measurement that fails leaves the others to run; the report holds
    // what did, and the run fails at the end.
    let mut failed: Vec<&str> = Vec::new();
    for measurement in MEASUREMENTS {
        if !only.is_empty() && !only.contains(&name(measurement)) {
            continue;
        }
        match measurement {
            Measurement::Server(name) => {
                let mut command = pinned_to_core_1(&binaries.join("baton-bench"));
                command
                    .arg(name)
                    .args(["--runs", "3", "--peer-runs", "3"])
                    .arg("--baton")
                    .arg(binaries.join("baton"))
                    .arg("--out")
                    .arg(&out)
                    .current_dir(&root);
                if let Some(peer) = &peer {
                    command.arg("--peer").arg(peer);
                }
                let measured = phases.time(&format!("measure {name}"), || {
                    status(&mut command)?;
                    report::stamp(&out, name)
                });
                if let Err(err) = measured {
                    eprintln!("{err:#}");
                    failed.push(name);
                }
            }
            Measurement::Local(name, measure) => {
                let measured = phases.time(&format!("measure {name}"), || {
                    measure(&out)?;
                    report::stamp(&out, name)
                });
                if let Err(err) = measured {
                    eprintln!("{err:#}");
                    failed.push(name);
                }
            }
        }
    }
    phases.time(
        "report: BENCHMARKS.md and bench/results/latest.json",
        || report::write(&out, &root),
    )?;
    if !failed.is_empty() {
        anyhow::bail!("these measurements failed and are missing from the report: {failed:?}");
    }
    Ok(())
}

/// `npm install` in `bench/peer` when its packages are missing; `None` (the
/// peer is skipped, and the report says so) when node or npm cannot.
fn install_peer(dir: &Path) -> Option<PathBuf> {
    if !dir.join("node_modules/@automerge/automerge-repo").is_dir() {
        // `npm install` with the committed lockfile installs the locked versions.
        let installed = status(
            Command::new("npm")
                .args(["install", "--no-audit", "--no-fund"])
                .current_dir(dir),
        );
        if let Err(err) = installed {
            eprintln!("the peer is skipped: {err:#}");
            return None;
        }
    }
    Some(dir.to_path_buf())
}

/// The load generator on core 1 (the servers take core 0) where there are two.
fn pinned_to_core_1(program: &Path) -> Command {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let taskset = crate::phase::output("taskset", &["-V"]).is_some();
    if cores >= 2 && taskset {
        let mut command = Command::new("taskset");
        command.args(["-c", "1"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Removes the fragments of an earlier run, so the report holds only this one's.
fn clear_fragments(out: &Path) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(());
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}
