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

fn smoke_options(out: &std::path::Path) -> Options {
    Options {
        programs: Programs {
            baton: baton_tests::baton_binary(),
            peer: None,
            pin: false,
        },
        runs: 1,
        peer_runs: 0,
        work: out.join("work"),
        scale: Scale::smoke(),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_measurement_runs_and_its_numbers_are_sane() -> anyhow::Result<()> {
    let out = tempfile::tempdir()?;
    let options = smoke_options(out.path());

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

    // Every fragment is on disk for the report to merge (the cluster's
    // has a test of its own).
    for name in measure::NAMES.iter().filter(|n| **n != "cluster") {
        let text = std::fs::read_to_string(out.path().join(format!("{name}.json")))?;
        let fragment: Fragment = serde_json::from_str(&text)?;
        assert_eq!(fragment.schema, baton_bench::fragment::SCHEMA);
    }
    Ok(())
}

/// S1, P1 and P2 at 4 agents, on a PostgreSQL cluster of the measurement's own.
#[tokio::test(flavor = "current_thread")]
async fn the_cluster_measurement_compares_three_setups() -> anyhow::Result<()> {
    let out = tempfile::tempdir()?;
    let options = smoke_options(out.path());
    let cluster = measure::run("cluster", &options, out.path()).await?;
    for setup in ["s1", "p1", "p2"] {
        let p50 = single(&cluster, &format!("cluster.{setup}.p50"));
        let p99 = single(&cluster, &format!("cluster.{setup}.p99"));
        assert!(
            p50 > 0.0 && p50 <= p99 && p99 < 10_000.0,
            "{setup}: {p50} {p99}"
        );
        let delivered = single(&cluster, &format!("cluster.{setup}.delivered"));
        assert_eq!(delivered, 100.0, "{setup}: every delivery arrived");
        let cpu = single(&cluster, &format!("cluster.{setup}.cpu"));
        assert!(cpu > 0.0 && cpu < 1e6, "{setup}: {cpu} µs per delivery");
        // Zero when even the first step missed on a loaded machine.
        let highest = single(&cluster, &format!("cluster.{setup}.deliveries"));
        assert!((0.0..=1e6).contains(&highest), "{setup}: {highest}");
    }
    let mut database_seen = 0.0;
    for setup in ["p1", "p2"] {
        let database = single(&cluster, &format!("cluster.{setup}.database_cpu"));
        let total = single(&cluster, &format!("cluster.{setup}.cpu"));
        assert!(
            (0.0..total).contains(&database),
            "{setup}: PostgreSQL's share is within the total ({database} of {total} µs)"
        );
        database_seen += database;
    }
    // CPU time comes in 10 ms ticks: one short load may see none, not both.
    assert!(database_seen > 0.0, "PostgreSQL's processes are counted");
    assert!(
        single(&cluster, "cluster.p2.cross.samples") > 0.0,
        "agents on the other node received changes"
    );
    let (same, cross) = (
        single(&cluster, "cluster.p2.same.p99"),
        single(&cluster, "cluster.p2.cross.p99"),
    );
    assert!(same > 0.0 && cross > 0.0, "{same} {cross}");
    let margin = single(&cluster, "cluster.cross_minus_same.p99");
    assert!((margin - (cross - same)).abs() < 1e-9);
    assert!(single(&cluster, "cluster.p1_over_s1.cpu") > 0.0);
    assert!(
        single(&cluster, "cluster.fsync") > 0.0,
        "the disk was probed"
    );
    assert!(
        cluster.about.iter().any(|p| p.contains("fsync=on")),
        "the report says PostgreSQL was durable"
    );

    let text = std::fs::read_to_string(out.path().join("cluster.json"))?;
    let on_disk: Fragment = serde_json::from_str(&text)?;
    assert_eq!(on_disk.figures.len(), cluster.figures.len());
    Ok(())
}
