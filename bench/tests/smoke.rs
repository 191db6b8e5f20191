//! The benchmarks at smoke scale against the debug `baton`: every
//! measurement runs, and its numbers are sane (samples were taken, every
//! delivery arrived, percentiles are ordered). The peer is left to
//! `cargo xtask bench`.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use baton_bench::fragment::Fragment;
use baton_bench::measure::{self, Options, Scale};
use baton_bench::target::Programs;

fn values<'a>(fragment: &'a Fragment, id: &str) -> &'a [f64] {
    let figure = fragment
        .figures
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no figure {id} in {}", fragment.name));
    assert!(figure.peer.is_empty(), "the smoke run leaves out the peer");
    &figure.baton
}

fn single(fragment: &Fragment, id: &str) -> f64 {
    let values = values(fragment, id);
    assert_eq!(values.len(), 1, "{id}: one run");
    values[0]
}

#[tokio::test(flavor = "current_thread")]
async fn every_measurement_runs_and_its_numbers_are_sane() -> anyhow::Result<()> {
    let out = tempfile::tempdir()?;
    let options = Options {
        programs: Programs {
            baton: baton_tests::baton_binary(),
            peer: None,
            pin: false,
        },
        runs: 1,
        peer_runs: 0,
        work: out.path().join("work"),
        scale: Scale::smoke(),
    };

    let latency = measure::run("latency", &options, out.path()).await?;
    let (p50, p99, p999) = (
        single(&latency, "latency.4.p50"),
        single(&latency, "latency.4.p99"),
        single(&latency, "latency.4.p999"),
    );
    assert!(p50 > 0.0 && p50 <= p99 && p99 <= p999, "{p50} {p99} {p999}");
    assert_eq!(
        single(&latency, "latency.4.delivered"),
        100.0,
        "every delivery arrived"
    );

    let throughput = measure::run("throughput", &options, out.path()).await?;
    // On a loaded machine even the first step may miss the limit: only check it ran.
    let highest = single(&throughput, "throughput.deliveries");
    // Zero when even the first step missed; never more than the last step offers.
    assert!((0.0..=1e6).contains(&highest), "{highest}");
    assert!(!throughput.notes.is_empty(), "every step is noted");

    let bulk = measure::run("bulk", &options, out.path()).await?;
    assert!(single(&bulk, "bulk.apply") > 0.0);
    let converged = single(&bulk, "bulk.converged");
    assert!(
        converged > 0.0 && converged < 60_000.0,
        "converged in {converged} ms"
    );

    let reconnect = measure::run("reconnect", &options, out.path()).await?;
    assert!(single(&reconnect, "reconnect.50.time") > 0.0);
    assert!(
        single(&reconnect, "reconnect.50.bytes_ratio") > 0.0,
        "changes were made and synced"
    );

    let memory = measure::run("memory", &options, out.path()).await?;
    assert!(
        single(&memory, "memory.empty") > 1.0,
        "a server has at least a MiB resident"
    );

    let start = measure::run("start", &options, out.path()).await?;
    assert!(single(&start, "start.time") > 0.0);

    // Every fragment is on disk for the report to merge.
    for name in measure::NAMES {
        let text = std::fs::read_to_string(out.path().join(format!("{name}.json")))?;
        let fragment: Fragment = serde_json::from_str(&text)?;
        assert_eq!(fragment.schema, baton_bench::fragment::SCHEMA);
    }
    Ok(())
}
