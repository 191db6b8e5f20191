//! `app-bench --named-wasm FILE [--runs N] [--conversations N] --out DIR`:
//! the app's figures (bundle, first render, long tasks, a bulk reassign in
//! wasm) as `DIR/app.json`, a fragment of `cargo xtask bench`'s report
//! (schema in docs/benchmarks.md). The server is `BATON_BIN`.

use anyhow::Context;
use baton_tests::app_bench::{self, page::PageRun};
use serde_json::{Value, json};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// One figure of the fragment: a value per run.
fn figure(
    id: &str,
    group: &str,
    label: &str,
    unit: &str,
    goal: Option<f64>,
    runs: Vec<f64>,
) -> Value {
    let mut figure = json!({
        "id": id, "group": group, "label": label, "unit": unit,
        "lower_is_better": true, "baton": runs, "peer": [],
    });
    if let Some(goal) = goal {
        figure["goal"] = json!({ "op": "<", "value": goal });
    }
    figure
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = arg(&args, "--runs").map_or(Ok(3), |n| n.parse())?;
    let conversations: u32 = arg(&args, "--conversations").map_or(Ok(10_000), |n| n.parse())?;
    let out = arg(&args, "--out").context("--out <directory> is needed")?;
    let named =
        arg(&args, "--named-wasm").context("--named-wasm <app wasm with names> is needed")?;

    let dist = baton_tests::app_dist()?;
    let bundle = app_bench::bundle(&dist, std::path::Path::new(&named))?;
    eprintln!("app-bench: {bundle:?}");
    let mut sessions: Vec<PageRun> = Vec::new();
    for n in 0..runs {
        let run = app_bench::session(conversations, &format!("app-bench-{n}"))
            .await
            .with_context(|| format!("app session {n}"))?;
        eprintln!("app-bench: session {n}: {run:?}");
        sessions.push(run);
    }
    let each = |f: fn(&PageRun) -> f64| sessions.iter().map(f).collect::<Vec<f64>>();
    let n = format!("{conversations}");
    let bulk = "3. Bulk reassign";
    let app = "6. App";
    let figures = vec![
        figure(
            "app.bundle.brotli",
            app,
            "release bundle as a browser downloads it: brotli (wasm + JS + CSS)",
            "KB",
            Some(600.0),
            vec![bundle.brotli as f64 / 1000.0],
        ),
        figure(
            "app.bundle.gzip",
            app,
            "the same for a browser without brotli: gzip",
            "KB",
            None,
            vec![bundle.total_gzip() as f64 / 1000.0],
        ),
        figure(
            "app.bundle.wasm_gzip",
            app,
            "of which wasm, gzip",
            "KB",
            None,
            vec![bundle.wasm_gzip as f64 / 1000.0],
        ),
        figure(
            "app.bundle.automerge",
            app,
            "Automerge + hexane share of the code (before wasm-opt)",
            "%",
            None,
            vec![bundle.automerge_share * 100.0],
        ),
        figure(
            "app.first_rows.warm",
            app,
            &format!("first inbox rows on a reload (IndexedDB), {n} conversations"),
            "ms",
            Some(1000.0),
            each(|s| s.first_rows_warm),
        ),
        figure(
            "app.first_rows.cold",
            app,
            &format!("first inbox rows after the first sign-in, {n} conversations"),
            "ms",
            Some(1000.0),
            each(|s| s.first_rows_cold),
        ),
        figure(
            "app.full_sync.cold",
            app,
            "every open conversation held after the first sign-in",
            "ms",
            Some(3000.0),
            each(|s| s.full_sync_cold),
        ),
        figure(
            "app.scroll.longest_task",
            app,
            "longest task while scrolling 60 × 900 px",
            "ms",
            Some(100.0),
            each(|s| s.scroll_longest_task),
        ),
        figure(
            "app.bulk.longest_task",
            app,
            "longest task while reassigning 1,000",
            "ms",
            Some(100.0),
            each(|s| s.bulk_longest_task),
        ),
        figure(
            "app.bulk.work",
            bulk,
            "apply 1,000 in the browser (wasm): the app's own work",
            "ms",
            Some(100.0),
            each(|s| s.bulk_work),
        ),
        figure(
            "app.bulk.wall",
            bulk,
            "apply 1,000 in the browser: click to last row updated, page painting between slices",
            "ms",
            None,
            each(|s| s.bulk_wall),
        ),
        figure(
            "app.bulk.server",
            bulk,
            "from the browser's click until the server holds all 1,000",
            "ms",
            Some(1500.0),
            each(|s| s.bulk_server),
        ),
    ];
    let mut notes = vec![format!(
        "App: headless Chromium against `baton serve --demo --demo-conversations {n}`, {runs} fresh browser session(s)."
    )];
    for (run, session) in sessions.iter().enumerate() {
        let parts: Vec<String> = session
            .bulk_parts
            .iter()
            .map(|(part, ms)| format!("{part} {ms:.0} ms"))
            .collect();
        notes.push(format!(
            "bulk of 1,000, session {run}: {} (issue: the IndexedDB writes issued; keep: until they committed; draw: the rows updated)",
            parts.join(", ")
        ));
    }
    for (run, session) in sessions.iter().enumerate() {
        let parts: Vec<String> = session
            .fetch_parts
            .iter()
            .map(|(part, _, ms)| format!("{part} {ms:.0} ms"))
            .collect();
        let frames = session.fetch_parts.first().map_or(0, |(_, n, _)| *n);
        notes.push(format!(
            "first sign-in, session {run}: {frames} frames of documents whole; {} (load: decoding them into documents; rows: reading their inbox rows; issue: their IndexedDB writes issued)",
            parts.join(", ")
        ));
    }
    let fragment = json!({
        "schema": 1,
        "name": "app",
        "figures": figures,
        "notes": notes,
    });
    let dir = std::path::Path::new(&out);
    std::fs::create_dir_all(dir)?;
    let path = dir.join("app.json");
    std::fs::write(&path, serde_json::to_string_pretty(&fragment)?)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
