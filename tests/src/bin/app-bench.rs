//! `app-bench --named-wasm FILE [--runs N] [--conversations N] [--out FILE]`: the app's
//! figures (bundle, first render, long tasks, bulk reassign in wasm) as
//! JSON, for `cargo xtask bench`.

use std::time::Duration;

use anyhow::Context;
use baton_tests::app_bench;
use serde_json::json;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = arg(&args, "--runs").map_or(Ok(3), |n| n.parse())?;
    let conversations: u32 = arg(&args, "--conversations").map_or(Ok(10_000), |n| n.parse())?;
    let out = arg(&args, "--out");

    let dist = baton_tests::app_dist()?;
    let named =
        arg(&args, "--named-wasm").context("--named-wasm <app wasm with names> is needed")?;
    let bundle = app_bench::bundle(&dist, std::path::Path::new(&named))?;
    eprintln!("app-bench: {bundle:?}");
    let mut sessions = Vec::new();
    for n in 0..runs {
        let run = app_bench::session(conversations, &format!("app-bench-{n}"))
            .await
            .with_context(|| format!("app session {n}"))?;
        eprintln!("app-bench: session {n}: {run:?}");
        sessions.push(run);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let figures = json!({
        "conversations": conversations,
        "bundle": {
            "wasm_raw": bundle.wasm_raw,
            "wasm_gzip": bundle.wasm_gzip,
            "js_gzip": bundle.js_gzip,
            "css_gzip": bundle.css_gzip,
            "total_gzip": bundle.total_gzip(),
            "automerge_share": bundle.automerge_share,
        },
        "sessions": sessions.iter().map(|s| json!({
            "first_rows_cold_ms": s.first_rows_cold,
            "full_sync_cold_ms": s.full_sync_cold,
            "first_rows_warm_ms": s.first_rows_warm,
            "scroll_longest_task_ms": s.scroll_longest_task,
            "scroll_long_tasks": s.scroll_long_tasks,
            "bulk_wall_ms": s.bulk_wall,
            "bulk_work_ms": s.bulk_work,
            "bulk_longest_task_ms": s.bulk_longest_task,
            "bulk_server_ms": s.bulk_server,
        })).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&figures)?;
    match out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("cannot write {path}"))?
        }
        None => println!("{text}"),
    }
    Ok(())
}
