//! `baton-bench`: runs measurements and writes their fragments; `cargo xtask
//! bench` builds everything, runs it pinned to its own core and writes the report.

use std::path::PathBuf;

use baton_bench::measure::{self, Options, Scale};
use baton_bench::target::{Programs, can_pin};
use clap::Parser;

/// Measures Baton (and the automerge-repo peer) under load.
#[derive(Debug, Parser)]
struct Args {
    /// Measurements to run (default: all): latency, throughput, bulk, reconnect, memory, start, cluster.
    names: Vec<String>,
    /// The `baton` binary to measure.
    #[arg(long)]
    baton: PathBuf,
    /// `bench/peer` with node_modules installed; without it the peer is skipped.
    #[arg(long)]
    peer: Option<PathBuf>,
    /// Runs of each load against Baton.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Runs of each load against the peer.
    #[arg(long, default_value_t = 2)]
    peer_runs: usize,
    /// Where fragments go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Small loads, for a quick check.
    #[arg(long)]
    smoke: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let options = Options {
        programs: Programs {
            baton: args.baton,
            peer: args.peer,
            pin: can_pin(),
        },
        runs: args.runs,
        peer_runs: args.peer_runs,
        work: args.out.join("work"),
        scale: if args.smoke {
            Scale::smoke()
        } else {
            Scale::full()
        },
    };
    let names: Vec<String> = if args.names.is_empty() {
        measure::NAMES.iter().map(|n| n.to_string()).collect()
    } else {
        args.names
    };
    for name in &names {
        eprintln!("measuring {name}");
        measure::run(name, &options, &args.out).await?;
    }
    Ok(())
}
