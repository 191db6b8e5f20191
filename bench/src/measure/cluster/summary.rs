//! What the cluster measurement concludes: its two goals as figures of
//! their own (run by run, each run having measured every setup), and the
//! paragraphs under its table — the setup, durability, the cores, and a
//! projection (reasoned, not measured) to two nodes of four cores.

use super::super::{Options, Scale};
use super::GROUP;
use crate::fragment::{Figure, Fragment, Goal};

/// Goal: cross-node p99 at most this much above same-node p99.
const CROSS_NODE_MARGIN_MS: f64 = 20.0;
/// Goal: P1's CPU per delivery at most this many times S1's.
const POSTGRES_CPU_RATIO: f64 = 1.5;
/// The nodes and cores the projection is for.
const PROJECTED_NODES: f64 = 2.0;
const PROJECTED_CORES: f64 = 4.0;

fn values<'a>(fragment: &'a Fragment, id: &str) -> &'a [f64] {
    fragment
        .figures
        .iter()
        .find(|f| f.id == id)
        .map_or(&[], |f| f.baton.as_slice())
}

fn median(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// Adds the goals' figures, computed run by run from the setups' figures.
pub fn compare(fragment: &mut Fragment, scale: &Scale) {
    let agents = scale.cluster_agents;
    let pairs = |a: &[f64], b: &[f64], f: fn(f64, f64) -> f64| -> Vec<f64> {
        a.iter().zip(b).map(|(a, b)| f(*a, *b)).collect()
    };
    let cross = values(fragment, "cluster.p2.cross.p99");
    let same = values(fragment, "cluster.p2.same.p99");
    let margin = pairs(cross, same, |cross, same| cross - same);
    let p1 = values(fragment, "cluster.p1.cpu");
    let s1 = values(fragment, "cluster.s1.cpu");
    let ratio = pairs(p1, s1, |p1, s1| p1 / s1.max(f64::MIN_POSITIVE));
    if !margin.is_empty() {
        let label = format!(
            "P2: p99 to agents on the other node minus p99 to agents on the author's node, {agents} agents"
        );
        let figure = fragment.figure("cluster.cross_minus_same.p99", || {
            Figure::new(GROUP, &label, "ms", true).with_goal(Goal::below(CROSS_NODE_MARGIN_MS))
        });
        figure.baton = margin;
    }
    if !ratio.is_empty() {
        let label = format!(
            "P1 ÷ S1: CPU per delivery (nodes and PostgreSQL), {agents} agents, run by run"
        );
        let figure = fragment.figure("cluster.p1_over_s1.cpu", || {
            Figure::new(GROUP, &label, "×", true).with_goal(Goal::below(POSTGRES_CPU_RATIO))
        });
        figure.baton = ratio;
    }
}

/// The paragraphs under the cluster table.
pub fn about(fragment: &Fragment, options: &Options) -> Vec<String> {
    let scale = &options.scale;
    let rates: Vec<String> = scale.cluster_rates.iter().map(|r| format!("{r}")).collect();
    let fan_out = scale.cluster_agents.saturating_sub(1) as f64;
    let mut about = vec![
        format!(
            "Each run starts every setup afresh (seeded through the server's library, then \
             `baton serve`) and measures S1, P1 and P2 in turn, so a slow minute on this shared \
             machine falls on all three; {runs} run(s). {agents} agents hold {conversations} \
             conversations. The latency load is measurement 1's ({rate} changes/s for {secs} s); \
             then the rate steps through {rates} changes/s ({lo:.0}–{hi:.0} deliveries/s, {step} s \
             each) until p99 passes 100 ms or a delivery is missing. In P2 the agents are dealt to \
             the two nodes in turn, so about half of each change's receivers are on the other node, \
             which hears of the commit by LISTEN/NOTIFY and reads it from PostgreSQL.",
            runs = options.runs,
            agents = scale.cluster_agents,
            conversations = scale.latency_conversations,
            rate = scale.latency_rate,
            secs = scale.latency_duration.as_secs_f64(),
            rates = rates.join(", "),
            lo = scale.cluster_rates.first().copied().unwrap_or_default() * fan_out,
            hi = scale.cluster_rates.last().copied().unwrap_or_default() * fan_out,
            step = scale.throughput_step.as_secs_f64(),
        ),
        format!(
            "Durable in every setup: PostgreSQL {version} runs with fsync=on, \
             synchronous_commit=on and full_page_writes=on (as shipped), a throwaway cluster \
             under /tmp; SQLite runs with synchronous=FULL, under the work directory ({disks}). \
             A change is answered once it is on disk, so the disk's fsync time (in the table) is \
             part of every latency here.",
            version = postgres_version(),
            disks = if same_file_system(&options.work, std::path::Path::new("/tmp")) {
                "the same file system"
            } else {
                "not the file system of /tmp"
            },
        ),
        cores(options.programs.pin),
    ];
    about.extend(projection(fragment, scale));
    about
}

/// What ran where.
fn cores(pinned: bool) -> String {
    let cores = std::fs::read_to_string("/proc/cpuinfo")
        .map(|info| info.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(0);
    let placement = if pinned {
        "The nodes and every PostgreSQL process share core 0 (`taskset`) and the load generator \
         has core 1, as in the other measurements, so in P2 two nodes and PostgreSQL share one \
         core: P2 shows what a second node costs, not what a second machine adds."
    } else {
        "Nothing was pinned: the nodes, PostgreSQL and the load generator shared every core."
    };
    format!(
        "This machine has {cores} cores. {placement} CPU per delivery is the CPU time of the nodes \
         and of every PostgreSQL process (the postmaster and its children, running or ended, from \
         /proc/<pid>/stat) over the load, divided by the deliveries applied."
    )
}

/// Whether `a` and `b` are on one file system (and so, here, one disk).
fn same_file_system(a: &std::path::Path, b: &std::path::Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev(),
        _ => false,
    }
}

/// PostgreSQL's major version, from where its binaries are.
fn postgres_version() -> String {
    baton_tests::postgres::server_binaries()
        .ok()
        .and_then(|bin| Some(bin.parent()?.file_name()?.to_str()?.to_owned()))
        .unwrap_or_else(|| "(version unknown)".into())
}

/// A projection from P2's medians to two nodes of four cores each.
fn projection(fragment: &Fragment, scale: &Scale) -> Option<String> {
    let at = |key: &str| median(values(fragment, &format!("cluster.p2.{key}")));
    let total_us = at("deliveries_cpu")?;
    let database_us = at("deliveries_database_cpu")?;
    let busy = at("deliveries_share")? / 100.0;
    let kept = at("deliveries")?;
    let node_us = (total_us - database_us).max(1.0);
    let fan_out = scale.cluster_agents.saturating_sub(1) as f64;
    let cores = PROJECTED_NODES * PROJECTED_CORES;
    let rate = cores * busy * 1e6 / node_us;
    let margin = median(values(fragment, "cluster.cross_minus_same.p99"));
    Some(format!(
        "Projection to two nodes of four cores each, PostgreSQL on a machine of its own \
         (reasoned from P2's medians, not measured). Here P2 kept {kept:.0} deliveries/s while \
         its one core was {busy_pct:.0} % busy, spending {node_us:.0} µs per delivery in the \
         nodes and {database_us:.0} µs in PostgreSQL. Nodes: if a node's work spreads over its \
         cores (its runtime has a worker per core) and each core is held to the same {busy_pct:.0} \
         %, {cores:.0} cores carry about {rate:.0} deliveries/s at fan-out {fan_out:.0}. \
         PostgreSQL: it stores each change once and each other node reads it once, so its work \
         follows changes, about {per_change:.0} µs each here: {database_cores:.1} cores at that \
         rate. What cores do not lift: every node's commits take turns on the commit clock's row, \
         so changes per second are bounded by PostgreSQL's commit time (an fsync) and the group \
         size (32 per transaction), whatever the nodes' cores. Latency: the hop to the other node \
         (NOTIFY, then the catch-up read) added {margin} at p99 here, with both nodes and \
         PostgreSQL queueing on one core; with cores of their own that queueing shrinks, so the \
         difference is expected to be no larger, but that is not measured.",
        busy_pct = busy * 100.0,
        per_change = database_us * fan_out,
        database_cores = rate * database_us / 1e6,
        margin = margin.map_or("—".into(), |m| format!("{m:.1} ms")),
    ))
}
