//! Harness for end-to-end tests: starts the real `baton` binary on
//! 127.0.0.1 with a temporary data directory and stops it afterwards.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `baton` binary this workspace built (`BATON_BIN` overrides).
pub fn baton_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BATON_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug").join("baton")
}

/// A running `baton serve`.
pub struct Server {
    pub url: String,
    child: Child,
    _data: tempfile::TempDir,
}

impl Server {
    /// Starts `baton serve --listen 127.0.0.1:0` with `extra` arguments and
    /// waits until it prints the address it listens on.
    pub async fn start(extra: &[&str]) -> anyhow::Result<Server> {
        let data = tempfile::tempdir()?;
        let binary = baton_binary();
        let mut child = Command::new(&binary)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, lines.next_line())
                .await
                .context("baton did not start within 20 s")??;
            let Some(line) = line else {
                bail!("baton exited before listening");
            };
            if let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                return Ok(Server {
                    url: url.to_owned(),
                    child,
                    _data: data,
                });
            }
        }
    }

    /// Stops the server the way an operator would (SIGKILL is `kill_on_drop`).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}
