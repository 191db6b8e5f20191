//! The system under test: `baton serve` or the peer (a stock automerge-repo
//! sync server under `bench/peer/`), started on 127.0.0.1 and pinned to core
//! 0 when the machine has another core for the load generator.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use baton_shared::docset::DocSet;
use baton_shared::ids::AgentId;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::client::Client;

/// Which server a load runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum System {
    Baton,
    Peer,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            System::Baton => "baton",
            System::Peer => "peer",
        }
    }
}

/// Where the programs under test are.
#[derive(Debug, Clone)]
pub struct Programs {
    /// The `baton` binary.
    pub baton: PathBuf,
    /// `bench/peer/` with its `node_modules` installed; `None` skips the peer.
    pub peer: Option<PathBuf>,
    /// Pin servers to core 0 with `taskset`.
    pub pin: bool,
}

/// A running server.
pub struct Target {
    pub system: System,
    /// `http://127.0.0.1:<port>` for Baton, `ws://127.0.0.1:<port>` for the peer.
    pub url: String,
    pub pid: u32,
    /// From spawn to the server saying it listens.
    pub started_in: Duration,
    child: Child,
}

impl Target {
    /// Starts `baton serve` on `data` (seeded beforehand).
    pub async fn baton(programs: &Programs, data: &Path) -> anyhow::Result<Target> {
        Self::baton_on(programs, data, None).await
    }

    /// Starts `baton serve` on the database at `database_url` (seeded
    /// beforehand), or on the one in `data` without it. Several started on
    /// one PostgreSQL database are nodes of one Baton.
    pub async fn baton_on(
        programs: &Programs,
        data: &Path,
        database_url: Option<&str>,
    ) -> anyhow::Result<Target> {
        let mut command = pinned(programs.pin, &programs.baton);
        command
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0", "--json"])
            .env("RUST_LOG", "warn");
        if let Some(url) = database_url {
            command.env("BATON_DATABASE_URL", url);
        }
        Self::spawn(System::Baton, command).await
    }

    /// Starts the peer with its storage in `data`.
    pub async fn peer(programs: &Programs, data: &Path) -> anyhow::Result<Target> {
        let dir = programs
            .peer
            .as_ref()
            .context("the peer is not installed (npm install in bench/peer)")?;
        let mut command = pinned(programs.pin, Path::new("node"));
        command.arg(dir.join("server.mjs")).arg(data);
        let target = Self::spawn(System::Peer, command).await?;
        // The repo hooks its network adapter up a moment after the socket
        // listens; until then a connection is dropped. Wait for a join answer.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let probe = DocSet::new("bench-probe");
            match Client::connect(&target.url, AgentId::random(), probe).await {
                Ok(client) => {
                    client.disconnect().await;
                    return Ok(target);
                }
                Err(err) if Instant::now() > deadline => {
                    return Err(err.context("the peer never answered join"));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    async fn spawn(system: System, mut command: Command) -> anyhow::Result<Target> {
        let begun = Instant::now();
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", system.name()))?;
        let pid = child.id().context("no pid")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let deadline = begun + Duration::from_secs(300);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, lines.next_line())
                .await
                .with_context(|| format!("{} did not start in time", system.name()))??;
            let Some(line) = line else {
                bail!("{} exited before listening", system.name());
            };
            if let Ok(started) = serde_json::from_str::<serde_json::Value>(&line)
                && let Some(url) = started["url"].as_str()
            {
                let started_in = begun.elapsed();
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                return Ok(Target {
                    system,
                    url: url.to_owned(),
                    pid,
                    started_in,
                    child,
                });
            }
        }
    }

    /// The websocket URL a client with `token` connects to.
    pub fn sync_url(&self, token: Option<&str>) -> String {
        match (self.system, token) {
            (System::Baton, Some(token)) => format!(
                "{}/sync?token={token}",
                self.url.replacen("http://", "ws://", 1)
            ),
            (System::Baton, None) => format!("{}/sync", self.url.replacen("http://", "ws://", 1)),
            (System::Peer, _) => self.url.clone(),
        }
    }

    /// Resident memory of the server process.
    pub fn rss(&self) -> Option<u64> {
        crate::cpu::rss_bytes(self.pid)
    }

    /// CPU time the server process has used.
    pub fn cpu(&self) -> Option<Duration> {
        crate::cpu::pid_cpu(self.pid)
    }

    /// Stops the server (SIGKILL: its state is thrown away after a run).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }
}

/// CPU time used so far by what serves a load.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServingCpu {
    /// Every serving process: the nodes (or the peer) and a database
    /// server of their own.
    pub total: Duration,
    /// Of which the database server's processes (PostgreSQL); zero where
    /// the database runs inside the node (SQLite).
    pub database: Duration,
}

/// What a fleet connects to and whose CPU a load counts: one [`Target`],
/// or several Baton nodes sharing one database.
pub trait Servers {
    /// The websocket URL client `n` connects to, signing in with `token`.
    fn url_for(&self, n: usize, token: Option<&str>) -> String;
    /// The node client `n` connects to (0 with one server).
    fn node_of(&self, n: usize) -> usize;
    /// CPU time used so far by every serving process.
    fn serving_cpu(&self) -> ServingCpu;
}

impl Servers for Target {
    fn url_for(&self, _: usize, token: Option<&str>) -> String {
        self.sync_url(token)
    }

    fn node_of(&self, _: usize) -> usize {
        0
    }

    fn serving_cpu(&self) -> ServingCpu {
        ServingCpu {
            total: self.cpu().unwrap_or_default(),
            database: Duration::ZERO,
        }
    }
}

/// `program`, on core 0 if `pin`.
pub fn pinned(pin: bool, program: &Path) -> Command {
    if pin {
        let mut command = Command::new("taskset");
        command.args(["-c", "0"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Whether servers can be pinned apart from the load generator: cores 0 and
/// 1 both exist and may be chosen. Asked of `taskset` rather than of
/// `available_parallelism`, which counts only the cores this process is
/// pinned to (one, under `cargo xtask bench`).
pub fn can_pin() -> bool {
    std::process::Command::new("taskset")
        .args(["-c", "0,1", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
