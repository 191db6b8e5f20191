//! The app's figures for `cargo xtask bench` (the `app-bench` binary): the
//! bundle's size and Automerge's share of it, and what an agent waits for in
//! headless Chromium with a large workspace (see [`page`]).

pub mod bundle;
pub mod page;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::Server;

/// Starts a server with the built app and a demo workspace of
/// `conversations` (no simulated customers), and measures one browser
/// session against it.
pub async fn session(conversations: u32, label: &str) -> anyhow::Result<page::PageRun> {
    let data = tempfile::tempdir()?;
    let count = conversations.to_string();
    let dist = crate::app_dist()?;
    let dist = dist.to_string_lossy();
    let args = [
        "--dist",
        dist.as_ref(),
        "--demo",
        "--demo-conversations",
        &count,
        "--demo-rate",
        "0",
    ];
    let server = Server::start_within(data.path(), &args, Duration::from_secs(600)).await?;
    let agent = &server.started["demo"]["agents"][0];
    let email = agent["email"].as_str().context("no demo agent")?;
    let password = agent["password"].as_str().context("no demo password")?;
    let run = page::run(&server.url, email, password, label).await;
    server.stop().await?;
    run
}

/// The bundle in `dist`; `named_wasm` is the app built with its function
/// names kept (`CARGO_PROFILE_RELEASE_STRIP=none`), for the shares.
pub fn bundle(dist: &Path, named_wasm: &Path) -> anyhow::Result<bundle::Bundle> {
    bundle::measure(dist, named_wasm)
}
