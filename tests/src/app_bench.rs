//! The app's figures for `cargo xtask bench` (the `app-bench` binary): the
//! bundle's size and Automerge's share of it, and what an agent waits for in
//! headless Chromium with a large workspace (see [`page`]).

pub mod bundle;
pub mod page;

use std::path::Path;

use anyhow::Context;

use crate::Server;

/// Starts a server with the built app and a demo workspace of
/// `conversations` (no simulated customers), and measures one browser
/// session against it.
pub async fn session(conversations: u32, label: &str) -> anyhow::Result<page::PageRun> {
    let data = tempfile::tempdir()?;
    let count = conversations.to_string();
    let server = Server::with_app(
        data.path(),
        &["--demo", "--demo-conversations", &count, "--demo-rate", "0"],
    )
    .await?;
    let agent = &server.started["demo"]["agents"][0];
    let email = agent["email"].as_str().context("no demo agent")?;
    let password = agent["password"].as_str().context("no demo password")?;
    let run = page::run(&server.url, email, password, label).await;
    server.stop().await?;
    run
}

/// The bundle in `dist` (the app's unoptimized wasm is found in the target
/// directory, where cargo left it for trunk).
pub fn bundle(dist: &Path) -> anyhow::Result<bundle::Bundle> {
    let wasm = crate::target_dir().join("wasm32-unknown-unknown/release/baton-app.wasm");
    bundle::measure(dist, &wasm)
}
