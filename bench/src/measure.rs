//! The measurements of `cargo xtask bench`, each writing one fragment, at a
//! full scale or a smoke scale (seconds, for the test suite).

mod bulk;
mod cluster;
mod latency;
mod memory;
mod reconnect;
mod throughput;

use std::path::PathBuf;
use std::time::Duration;

use crate::fragment::Fragment;
use crate::load;
use crate::seed::{self, Fixture};
use crate::target::{Programs, System, Target};

pub use bulk::bulk;
pub use cluster::cluster;
pub use latency::latency;
pub use memory::{memory, start};
pub use reconnect::reconnect;
pub use throughput::throughput;

/// Every measurement by name, in the order `all` runs them.
pub const NAMES: &[&str] = &[
    "latency",
    "throughput",
    "bulk",
    "reconnect",
    "memory",
    "start",
    "cluster",
];

/// Measurements of Baton alone: the peer has no counterpart.
const BATON_ONLY: &[&str] = &["start", "cluster"];

/// How a measurement runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub programs: Programs,
    /// Runs of each load against Baton …
    pub runs: usize,
    /// … and against the peer.
    pub peer_runs: usize,
    /// Where data directories go (a disk, like a real deployment).
    pub work: PathBuf,
    pub scale: Scale,
}

/// The sizes of every load.
#[derive(Debug, Clone)]
pub struct Scale {
    pub latency_agents: Vec<usize>,
    pub latency_conversations: usize,
    pub latency_rate: f64,
    pub latency_duration: Duration,
    pub throughput_agents: usize,
    pub throughput_conversations: usize,
    /// Changes per second, tried in order until p99 exceeds the limit.
    pub throughput_rates: Vec<f64>,
    pub throughput_step: Duration,
    pub bulk_agents: usize,
    pub bulk_conversations: usize,
    /// Documents the reconnecting client holds, one load per size.
    pub reconnect_held: Vec<usize>,
    /// The largest size the peer is asked to hold: beyond it the stock peer
    /// takes minutes to take the documents and then cuts the reconnecting
    /// client (docs/benchmarks.md).
    pub peer_reconnect_held: usize,
    pub reconnect_changed: usize,
    pub memory_connections: usize,
    pub memory_documents: usize,
    pub start_conversations: usize,
    /// Agents in every setup of the cluster measurement, which otherwise
    /// runs the latency load and steps the throughput's way through …
    pub cluster_agents: usize,
    /// … these changes per second.
    pub cluster_rates: Vec<f64>,
    pub drain: Duration,
    /// Time for the server's allocator to settle before RSS is read.
    pub settle: Duration,
}

impl Scale {
    /// What `cargo xtask bench` measures (the loads).
    pub fn full() -> Scale {
        Scale {
            latency_agents: vec![50, 500],
            latency_conversations: 100,
            latency_rate: 20.0,
            latency_duration: Duration::from_secs(10),
            throughput_agents: 50,
            throughput_conversations: 200,
            throughput_rates: vec![
                2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 400.0, 700.0, 1000.0,
            ],
            throughput_step: Duration::from_secs(3),
            bulk_agents: 10,
            bulk_conversations: 1000,
            reconnect_held: vec![2_000, 10_000],
            peer_reconnect_held: 2_000,
            reconnect_changed: 100,
            memory_connections: 1000,
            memory_documents: 5000,
            start_conversations: 100_000,
            cluster_agents: 50,
            cluster_rates: vec![10.0, 20.0, 50.0, 100.0, 150.0, 200.0, 300.0, 400.0],
            drain: Duration::from_secs(10),
            settle: Duration::from_millis(1500),
        }
    }

    /// A few seconds in all: checks that every measurement runs.
    pub fn smoke() -> Scale {
        Scale {
            latency_agents: vec![4],
            latency_conversations: 8,
            latency_rate: 20.0,
            latency_duration: Duration::from_secs(1),
            throughput_agents: 4,
            throughput_conversations: 8,
            throughput_rates: vec![10.0, 40.0],
            throughput_step: Duration::from_millis(500),
            bulk_agents: 3,
            bulk_conversations: 20,
            reconnect_held: vec![50],
            peer_reconnect_held: 50,
            reconnect_changed: 5,
            memory_connections: 10,
            memory_documents: 20,
            start_conversations: 20,
            cluster_agents: 4,
            cluster_rates: vec![10.0, 40.0],
            drain: Duration::from_secs(10),
            settle: Duration::from_millis(200),
        }
    }
}

/// Runs the measurement `name` and writes its fragment to `out`. Baton and
/// the peer run apart: if the peer fails, Baton's figures stay, with a note.
pub async fn run(name: &str, options: &Options, out: &std::path::Path) -> anyhow::Result<Fragment> {
    let mut baton_only = options.clone();
    baton_only.programs.peer = None;
    let mut fragment = one(name, &baton_only).await?;
    if options.programs.peer.is_some() && options.peer_runs > 0 && !BATON_ONLY.contains(&name) {
        let mut peer_only = options.clone();
        peer_only.runs = 0;
        match one(name, &peer_only).await {
            Ok(peer) => {
                for figure in peer.figures {
                    match fragment.figures.iter_mut().find(|f| f.id == figure.id) {
                        Some(ours) => ours.peer = figure.peer,
                        None => fragment.figures.push(figure),
                    }
                }
                fragment.notes.extend(peer.notes);
            }
            Err(err) => {
                say(format!("the peer failed {name}: {err:#}"));
                fragment
                    .notes
                    .push(format!("the peer failed this measurement: {err:#}"));
            }
        }
    }
    fragment.write(out)?;
    Ok(fragment)
}

async fn one(name: &str, options: &Options) -> anyhow::Result<Fragment> {
    match name {
        "latency" => latency(options).await,
        "throughput" => throughput(options).await,
        "bulk" => bulk(options).await,
        "reconnect" => reconnect(options).await,
        "memory" => memory(options).await,
        "start" => start(options).await,
        "cluster" => cluster(options).await,
        other => anyhow::bail!("no measurement named {other:?}; there are {NAMES:?}"),
    }
}

/// A started server with its fixture.
pub struct Setup {
    pub target: Target,
    pub fixture: Fixture,
    _data: tempfile::TempDir,
}

/// Seeds and starts `system` with `agents` agents and `conversations` conversations.
pub async fn setup(
    system: System,
    options: &Options,
    agents: usize,
    conversations: usize,
) -> anyhow::Result<Setup> {
    std::fs::create_dir_all(&options.work)?;
    let data = tempfile::tempdir_in(&options.work)?;
    let begun = std::time::Instant::now();
    say(format!(
        "seeding {} with {agents} agents and {conversations} conversations",
        system.name()
    ));
    match system {
        System::Baton => {
            let fixture = seed::baton(data.path(), agents, conversations).await?;
            say(format!("seeded in {:.1} s", begun.elapsed().as_secs_f64()));
            let target = Target::baton(&options.programs, data.path()).await?;
            Ok(Setup {
                target,
                fixture,
                _data: data,
            })
        }
        System::Peer => {
            let (fixture, docs) = seed::peer(agents, conversations)?;
            let target = Target::peer(&options.programs, data.path()).await?;
            let seeder = load::upload(&target, &fixture, docs).await?;
            seeder.disconnect().await;
            say(format!("seeded in {:.1} s", begun.elapsed().as_secs_f64()));
            Ok(Setup {
                target,
                fixture,
                _data: data,
            })
        }
    }
}

/// The systems to measure: Baton, and the peer if it is installed and runs.
pub fn systems(options: &Options) -> Vec<(System, usize)> {
    let mut systems = Vec::new();
    if options.runs > 0 {
        systems.push((System::Baton, options.runs));
    }
    if options.programs.peer.is_some() && options.peer_runs > 0 {
        systems.push((System::Peer, options.peer_runs));
    }
    systems
}

/// Pushes `value` to the figure's values for `system`.
pub fn push(figure: &mut crate::fragment::Figure, system: System, value: f64) {
    match system {
        System::Baton => figure.baton.push(value),
        System::Peer => figure.peer.push(value),
    }
}

/// Prints progress to stderr (stdout is left for results).
pub fn say(what: impl AsRef<str>) {
    eprintln!("  bench: {}", what.as_ref());
}
