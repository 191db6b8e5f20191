//! The setups the cluster measurement compares, each started fresh: Baton
//! on SQLite with one node (S1), on PostgreSQL with one node (P1), and on
//! PostgreSQL with two nodes sharing the database (P2), agents dealt to the
//! nodes in turn. PostgreSQL is a throwaway cluster started with the end-to-end
//! tests' code, durable as shipped (fsync on), on the servers' core.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use baton_tests::postgres::{Settings, Started};

use super::super::{Options, say};
use crate::seed::{self, Fixture};
use crate::target::{Servers, ServingCpu, Target};

/// One of the compared setups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// SQLite, one node.
    S1,
    /// PostgreSQL, one node.
    P1,
    /// PostgreSQL, two nodes.
    P2,
}

impl Layout {
    /// Every setup, in the order each run measures them.
    pub const ALL: [Layout; 3] = [Layout::S1, Layout::P1, Layout::P2];

    /// Its part of a figure's id.
    pub fn id(self) -> &'static str {
        match self {
            Layout::S1 => "s1",
            Layout::P1 => "p1",
            Layout::P2 => "p2",
        }
    }

    /// Its short name, e.g. `P2`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::S1 => "S1",
            Layout::P1 => "P1",
            Layout::P2 => "P2",
        }
    }

    /// Its name and what it is, e.g. `P2: PostgreSQL, 2 nodes`.
    pub fn title(self) -> &'static str {
        match self {
            Layout::S1 => "S1: SQLite, 1 node",
            Layout::P1 => "P1: PostgreSQL, 1 node",
            Layout::P2 => "P2: PostgreSQL, 2 nodes",
        }
    }

    pub fn nodes(self) -> usize {
        match self {
            Layout::S1 | Layout::P1 => 1,
            Layout::P2 => 2,
        }
    }

    pub fn on_postgres(self) -> bool {
        self != Layout::S1
    }
}

/// A started setup: its nodes, its database and the fixture seeded in it.
pub struct Deployment {
    pub nodes: Vec<Target>,
    pub fixture: Fixture,
    postgres: Option<Started>,
    postmaster: Option<u32>,
    _data: tempfile::TempDir,
}

impl Deployment {
    /// Seeds `layout`'s database with `agents` agents and `conversations`
    /// conversations and starts its nodes.
    pub async fn start(
        layout: Layout,
        options: &Options,
        agents: usize,
        conversations: usize,
    ) -> anyhow::Result<Deployment> {
        std::fs::create_dir_all(&options.work)?;
        let data = tempfile::tempdir_in(&options.work)?;
        let postgres = if layout.on_postgres() {
            let settings = Settings {
                durable: true,
                cores: options.programs.pin.then(|| "0".to_owned()),
            };
            Some(Started::with(settings).await?)
        } else {
            None
        };
        let url = match &postgres {
            Some(cluster) => Some(cluster.database("baton_bench").await?),
            None => None,
        };
        say(format!(
            "{}: seeding {agents} agents and {conversations} conversations",
            layout.title()
        ));
        let fixture = seed::baton_on(url.as_deref(), data.path(), agents, conversations).await?;
        let mut nodes = Vec::new();
        for _ in 0..layout.nodes() {
            let node = Target::baton_on(&options.programs, data.path(), url.as_deref()).await?;
            nodes.push(node);
        }
        let postmaster = postgres.as_ref().map(Started::postmaster_pid).transpose()?;
        Ok(Deployment {
            nodes,
            fixture,
            postgres,
            postmaster,
            _data: data,
        })
    }

    /// Stops the nodes, then PostgreSQL, and removes its files.
    pub async fn stop(self) -> anyhow::Result<()> {
        for node in self.nodes {
            node.stop().await?;
        }
        if let Some(cluster) = self.postgres {
            cluster.remove().await?;
        }
        Ok(())
    }
}

impl Servers for Deployment {
    fn url_for(&self, n: usize, token: Option<&str>) -> String {
        self.nodes[self.node_of(n)].sync_url(token)
    }

    fn node_of(&self, n: usize) -> usize {
        n % self.nodes.len().max(1)
    }

    fn serving_cpu(&self) -> ServingCpu {
        let nodes: Duration = self.nodes.iter().filter_map(Target::cpu).sum();
        let database = self
            .postmaster
            .and_then(crate::cpu::tree_cpu)
            .unwrap_or_default();
        ServingCpu {
            total: nodes + database,
            database,
        }
    }
}

/// The median time to append 8 KiB to a file in `dir` and `fdatasync` it,
/// over 50 tries: the least a durable commit waits for on that disk.
pub async fn fsync_time(dir: &Path) -> anyhow::Result<Duration> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("fsync-probe");
    let probe = path.clone();
    let times = tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::create(&probe)?;
        let block = [0u8; 8192];
        let mut times = Vec::with_capacity(50);
        for _ in 0..50 {
            let begun = Instant::now();
            file.write_all(&block)?;
            file.sync_data()?;
            times.push(begun.elapsed());
        }
        std::io::Result::Ok(times)
    })
    .await?;
    let _ = std::fs::remove_file(&path);
    let mut times = times?;
    times.sort();
    Ok(times[times.len() / 2])
}
