//! Merges the fragments in `target/bench/*.json` into `BENCHMARKS.md` (a
//! table per measurement: median and spread of every figure, its goal and
//! its ratio to the peer) and `bench/results/latest.json` (the same, for
//! comparison across commits).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// A fragment as a measurement writes it (schema 1).
#[derive(Debug, Deserialize)]
struct Fragment {
    schema: u32,
    name: String,
    figures: Vec<Figure>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Figure {
    id: String,
    group: String,
    label: String,
    unit: String,
    lower_is_better: bool,
    #[serde(default)]
    goal: Option<Goal>,
    baton: Vec<f64>,
    #[serde(default)]
    peer: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Goal {
    op: String,
    value: f64,
}

/// Median and spread of one system's runs.
#[derive(Debug, Clone, Copy, Serialize)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
    runs: usize,
}

impl Stats {
    fn of(values: &[f64]) -> Option<Stats> {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Stats {
            median,
            min: sorted[0],
            max: sorted[n - 1],
            runs: n,
        })
    }
}

/// One row of the merged results.
#[derive(Debug, Serialize)]
struct Row {
    id: String,
    fragment: String,
    group: String,
    label: String,
    unit: String,
    lower_is_better: bool,
    goal: Option<Goal>,
    goal_met: Option<bool>,
    baton: Option<Stats>,
    peer: Option<Stats>,
    /// How many times better Baton is than the peer (below 1: worse).
    times_better_than_peer: Option<f64>,
    baton_runs: Vec<f64>,
    peer_runs: Vec<f64>,
}

#[derive(Debug, Serialize)]
struct Machine {
    cpu: String,
    cores: usize,
    memory_gib: f64,
    kernel: String,
}

#[derive(Debug, Serialize)]
struct Results {
    schema: u32,
    date: String,
    commit: String,
    machine: Machine,
    figures: Vec<Row>,
    notes: Vec<String>,
}

/// Reads every fragment in `out` and writes the report at `root`.
pub fn write(out: &Path, root: &Path) -> anyhow::Result<()> {
    let mut fragments = Vec::new();
    for entry in
        std::fs::read_dir(out).with_context(|| format!("no results in {}", out.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path)?;
            let fragment: Fragment = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a benchmark fragment", path.display()))?;
            anyhow::ensure!(
                fragment.schema == 1,
                "{}: unknown schema {}",
                path.display(),
                fragment.schema
            );
            fragments.push(fragment);
        }
    }
    fragments.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for fragment in fragments {
        notes.extend(
            fragment
                .notes
                .iter()
                .map(|n| format!("[{}] {n}", fragment.name)),
        );
        rows.extend(fragment.figures.into_iter().map(|f| row(&fragment.name, f)));
    }
    rows.sort_by(|a, b| a.group.cmp(&b.group));
    let results = Results {
        schema: 1,
        date: crate::phase::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default(),
        commit: commit(),
        machine: machine(),
        figures: rows,
        notes,
    };
    let json_dir = root.join("bench/results");
    std::fs::create_dir_all(&json_dir)?;
    std::fs::write(
        json_dir.join("latest.json"),
        serde_json::to_vec_pretty(&results)?,
    )?;
    std::fs::write(root.join("BENCHMARKS.md"), markdown(&results))?;
    println!("wrote BENCHMARKS.md and bench/results/latest.json");
    Ok(())
}

fn row(fragment: &str, figure: Figure) -> Row {
    let baton = Stats::of(&figure.baton);
    let peer = Stats::of(&figure.peer);
    let goal_met = match (&figure.goal, baton) {
        (Some(goal), Some(stats)) => Some(if goal.op == ">" {
            stats.median > goal.value
        } else {
            stats.median < goal.value
        }),
        _ => None,
    };
    let times_better_than_peer = match (baton, peer) {
        (Some(b), Some(p)) if b.median > 0.0 && p.median > 0.0 => Some(if figure.lower_is_better {
            p.median / b.median
        } else {
            b.median / p.median
        }),
        _ => None,
    };
    Row {
        id: figure.id,
        fragment: fragment.to_owned(),
        group: figure.group,
        label: figure.label,
        unit: figure.unit,
        lower_is_better: figure.lower_is_better,
        goal: figure.goal,
        goal_met,
        baton,
        peer,
        times_better_than_peer,
        baton_runs: figure.baton,
        peer_runs: figure.peer,
    }
}

fn markdown(results: &Results) -> String {
    let m = &results.machine;
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmarks\n");
    let _ = writeln!(
        md,
        "Written by `cargo xtask bench` on {} at commit `{}`.\n\nMachine: {}, {} cores, {:.0} GiB RAM, Linux {}.\n",
        results.date, results.commit, m.cpu, m.cores, m.memory_gib, m.kernel
    );
    let _ = writeln!(
        md,
        "Median of the runs, spread as min–max. The peer is a stock automerge-repo 2.5.6 sync \
         server under the same load from the same load generator; “vs peer” is how many times \
         better Baton's median is. Method and definitions: docs/benchmarks.md.\n"
    );
    let mut group = "";
    for row in &results.figures {
        if row.group != group {
            group = &row.group;
            let _ = writeln!(md, "\n## {group}\n");
            let _ = writeln!(
                md,
                "| Figure | Baton | spread | goal | peer | spread | vs peer |"
            );
            let _ = writeln!(md, "|---|---:|---:|---|---:|---:|---:|");
        }
        let goal = match (&row.goal, row.goal_met) {
            (Some(goal), Some(met)) => format!(
                "{} {} {} {}",
                goal.op,
                number(goal.value),
                row.unit,
                if met { "✓" } else { "✗ missed" }
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.baton.map_or("—".into(), |s| format!(
                "{} {}",
                number(s.median),
                row.unit
            )),
            spread(row.baton),
            goal,
            row.peer.map_or("—".into(), |s| format!(
                "{} {}",
                number(s.median),
                row.unit
            )),
            spread(row.peer),
            row.times_better_than_peer
                .map_or(String::new(), |r| format!("{}×", number(r))),
        );
    }
    if !results.notes.is_empty() {
        let _ = writeln!(md, "\n## Run notes\n");
        for note in &results.notes {
            let _ = writeln!(md, "- {note}");
        }
    }
    md
}

fn spread(stats: Option<Stats>) -> String {
    match stats {
        Some(s) if s.runs > 1 => format!("{}–{} ({} runs)", number(s.min), number(s.max), s.runs),
        Some(_) => "1 run".into(),
        None => String::new(),
    }
}

/// Three significant figures, thousands kept whole.
fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn commit() -> String {
    let hash = crate::phase::output("git", &["rev-parse", "--short", "HEAD"]).unwrap_or_default();
    let dirty = crate::phase::output("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{hash} (with uncommitted changes)")
    } else {
        hash
    }
}

fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let memory_kib: f64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0.0);
    Machine {
        cpu,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        memory_gib: memory_kib / 1024.0 / 1024.0,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_default(),
    }
}
