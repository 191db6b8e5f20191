//! Cluster (measurement 7): the same load on three setups of Baton — SQLite
//! with one node (S1), PostgreSQL with one node (P1), PostgreSQL with two
//! nodes sharing it (P2) — each started fresh in every run, a run taking
//! the setups in turn. Per setup: assign-to-visible latency under the
//! latency measurement's load, the highest rate kept under a p99 of
//! 100 ms, and CPU per delivery counting the nodes and every PostgreSQL
//! process; for P2, deliveries to an agent on the author's node and on the
//! other node apart.

mod deployment;
mod summary;

use std::time::Duration;

use super::throughput::{P99_LIMIT_MS, Stepped, Steps, step_note, step_up};
use super::{Options, Scale, say};
use crate::fragment::{Figure, Fragment};
use crate::load::{self, Outcome, Spec};

pub use deployment::{Deployment, Layout, fsync_time};

const GROUP: &str = "7. Cluster";

/// The figures of every setup, in the order of the report's rows.
const KEYS: &[&str] = &[
    "p50",
    "p99",
    "same.p50",
    "same.p99",
    "cross.p50",
    "cross.p99",
    "cross.samples",
    "delivered",
    "cpu",
    "database_cpu",
    "deliveries",
    "deliveries_cpu",
    "deliveries_database_cpu",
    "deliveries_share",
];

pub async fn cluster(options: &Options) -> anyhow::Result<Fragment> {
    let scale = &options.scale;
    let mut fragment = Fragment::new("cluster");
    for run in 0..options.runs {
        let fsync = fsync_time(&options.work).await?;
        let label = "fsync of 8 KiB in the work directory, median of 50, before each run";
        let figure = fragment.figure("cluster.fsync", || Figure::new(GROUP, label, "ms", true));
        figure.baton.push(fsync.as_secs_f64() * 1000.0);
        for layout in Layout::ALL {
            let deployment = Deployment::start(
                layout,
                options,
                scale.cluster_agents,
                scale.latency_conversations,
            )
            .await?;
            let measured = measure(&deployment, layout, scale, run).await;
            deployment.stop().await?;
            let measured = measured?;
            record(&mut fragment, layout, &measured, scale);
            fragment
                .notes
                .extend(notes(layout, run, &measured, scale.cluster_agents));
        }
    }
    fragment.figures.sort_by_key(|figure| rank(&figure.id));
    summary::compare(&mut fragment, scale);
    fragment.about = summary::about(&fragment, options);
    Ok(fragment)
}

/// What one setup measured in one run.
struct Measured {
    /// The latency load.
    latency: Outcome,
    /// The stepped rate.
    stepped: Stepped,
}

async fn measure(
    deployment: &Deployment,
    layout: Layout,
    scale: &Scale,
    run: usize,
) -> anyhow::Result<Measured> {
    let fixture = &deployment.fixture;
    let agents = scale.cluster_agents;
    let fleet = load::connect(deployment, fixture, agents, &fixture.conversations).await?;
    say(format!(
        "{}: {agents} agents connected, each holding {} conversations",
        layout.title(),
        fixture.conversations.len()
    ));
    let spec = Spec {
        rate: scale.latency_rate,
        duration: scale.latency_duration,
        drain: scale.drain,
    };
    let (fleet, latency) = load::run(fleet, fixture, deployment, spec).await?;
    say(format!(
        "cluster {} run {run}: p50 {:.1} ms p99 {:.1} ms (cross-node p99 {:.1} ms), {}/{} delivered, server side cpu {:.0}% (PostgreSQL {:.0}%)",
        layout.name(),
        latency.latency.p50_ms,
        latency.latency.p99_ms,
        latency.cross_node.p99_ms,
        latency.delivered,
        latency.expected,
        latency.server_cpu * 100.0,
        latency.database_cpu * 100.0
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let steps = Steps {
        rates: &scale.cluster_rates,
        step: scale.throughput_step,
        drain: scale.drain,
    };
    let what = format!("cluster {} run {run}", layout.name());
    let (fleet, stepped) = step_up(fleet, fixture, deployment, steps, &what).await?;
    for client in fleet.clients {
        client.disconnect().await;
    }
    Ok(Measured { latency, stepped })
}

/// The latency load, as labels state it.
fn load_label(scale: &Scale) -> String {
    let fan_out = scale.cluster_agents.saturating_sub(1);
    format!(
        "{} agents, {} changes/s = {:.0} deliveries/s (fan-out {fan_out})",
        scale.cluster_agents,
        scale.latency_rate,
        scale.latency_rate * fan_out as f64
    )
}

fn record(fragment: &mut Fragment, layout: Layout, measured: &Measured, scale: &Scale) {
    let load = load_label(scale);
    let latency = &measured.latency;
    let mut put = |key: &str, label: String, unit: &str, lower_is_better: bool, value: f64| {
        let id = format!("cluster.{}.{key}", layout.id());
        let make = || Figure::new(GROUP, &label, unit, lower_is_better).on_setup(layout.title());
        fragment.figure(&id, make).baton.push(value);
    };
    put(
        "p50",
        format!("p50, {load}"),
        "ms",
        true,
        latency.latency.p50_ms,
    );
    put(
        "p99",
        format!("p99, {load}"),
        "ms",
        true,
        latency.latency.p99_ms,
    );
    let delivered = 100.0 * latency.delivered as f64 / latency.expected.max(1) as f64;
    let share = format!(
        "share of deliveries applied within {} s of the last change",
        scale.drain.as_secs()
    );
    put("delivered", share, "%", false, delivered);
    let cpu = "CPU per delivery, nodes and PostgreSQL, at the latency load";
    put(
        "cpu",
        cpu.into(),
        "µs",
        true,
        latency.server_cpu_per_delivery_us(),
    );
    if layout.on_postgres() {
        let of_which = "… of which PostgreSQL".to_owned();
        put(
            "database_cpu",
            of_which,
            "µs",
            true,
            latency.database_cpu_per_delivery_us(),
        );
    }
    if layout.nodes() > 1 {
        let (same, cross) = (&latency.same_node, &latency.cross_node);
        put(
            "same.p50",
            "… p50 to agents on the author's node".into(),
            "ms",
            true,
            same.p50_ms,
        );
        put(
            "same.p99",
            "… p99 to agents on the author's node".into(),
            "ms",
            true,
            same.p99_ms,
        );
        put(
            "cross.p50",
            "… p50 to agents on the other node".into(),
            "ms",
            true,
            cross.p50_ms,
        );
        put(
            "cross.p99",
            "… p99 to agents on the other node".into(),
            "ms",
            true,
            cross.p99_ms,
        );
        let samples = "… deliveries to agents on the other node (samples)".to_owned();
        put(
            "cross.samples",
            samples,
            "deliveries",
            false,
            cross.samples as f64,
        );
    }
    let highest = format!(
        "highest deliveries/s with p99 < {P99_LIMIT_MS} ms and none missing, {} s steps",
        scale.throughput_step.as_secs_f64()
    );
    let stepped = &measured.stepped;
    put("deliveries", highest, "deliveries/s", false, stepped.best());
    if let Some(kept) = &stepped.kept {
        let cpu = "CPU per delivery, nodes and PostgreSQL, at the highest rate kept";
        put(
            "deliveries_cpu",
            cpu.into(),
            "µs",
            true,
            kept.server_cpu_per_delivery_us(),
        );
        if layout.on_postgres() {
            let of_which = "… of which PostgreSQL, at the highest rate kept".to_owned();
            let value = kept.database_cpu_per_delivery_us();
            put("deliveries_database_cpu", of_which, "µs", true, value);
        }
        let busy = "server side CPU at the highest rate kept, share of one core".to_owned();
        put("deliveries_share", busy, "%", true, kept.server_cpu * 100.0);
    }
}

/// A figure's place in the report: by what it is, then by setup.
fn rank(id: &str) -> (usize, usize) {
    let mut parts = id.splitn(3, '.').skip(1);
    let layout = parts.next().unwrap_or_default();
    let key = parts.next().unwrap_or_default();
    (
        KEYS.iter().position(|k| *k == key).unwrap_or(KEYS.len()),
        Layout::ALL
            .iter()
            .position(|l| l.id() == layout)
            .unwrap_or(Layout::ALL.len()),
    )
}

fn notes(layout: Layout, run: usize, measured: &Measured, agents: usize) -> Vec<String> {
    let latency = &measured.latency;
    let mut notes = vec![format!(
        "cluster {} run {run}, latency at {agents} agents: {}/{} deliveries ({} to the other node), load generator CPU {:.0}% of a core, server side CPU {:.0}% (PostgreSQL {:.0}%), worst schedule lag {:.1} ms{}",
        layout.name(),
        latency.delivered,
        latency.expected,
        latency.cross_node.samples,
        latency.client_cpu * 100.0,
        latency.server_cpu * 100.0,
        latency.database_cpu * 100.0,
        latency.worst_schedule_lag.as_secs_f64() * 1000.0,
        latency.saturation()
    )];
    for step in &measured.stepped.steps {
        notes.push(format!(
            "cluster {} run {run}: {}, of which PostgreSQL {:.0}%",
            layout.name(),
            step_note(step),
            step.database_cpu * 100.0
        ));
    }
    notes
}
