//! Merges the fragments in `target/bench/*.json` into `BENCHMARKS.md` (a
//! table per measurement: median and spread of every figure, its goal and
//! its ratio to the peer) and `bench/results/latest.json` (the same, for
//! comparison across commits). `report/markdown.rs` writes the tables.

mod markdown;

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
    /// Paragraphs printed under the measurement's tables.
    #[serde(default)]
    about: Vec<String>,
    /// Added by [`stamp`] once the measurement ran.
    #[serde(default)]
    measured: Option<Measured>,
}

/// When, at which commit and on which processor a fragment was measured:
/// a report may merge fragments of earlier runs with this one's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Measured {
    date: String,
    commit: String,
    cpu: String,
}

impl Measured {
    fn now() -> Measured {
        Measured {
            date: date(),
            commit: commit(),
            cpu: machine().cpu,
        }
    }
}

/// Records in `<out>/<name>.json` when and where it was measured.
pub fn stamp(out: &Path, name: &str) -> anyhow::Result<()> {
    let path = out.join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{name} wrote no fragment ({})", path.display()))?;
    let mut fragment: serde_json::Value = serde_json::from_str(&text)?;
    let object = fragment
        .as_object_mut()
        .with_context(|| format!("{} is not a benchmark fragment", path.display()))?;
    object.insert("measured".into(), serde_json::to_value(Measured::now())?);
    std::fs::write(&path, serde_json::to_vec_pretty(&fragment)?)?;
    Ok(())
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
    /// The setup measured, where a measurement compares several.
    #[serde(default)]
    setup: Option<String>,
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
    /// The setup measured, where a measurement compares several (a column each).
    #[serde(skip_serializing_if = "Option::is_none")]
    setup: Option<String>,
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
    /// Each measurement's provenance and paragraphs, by the group of its figures.
    sections: Vec<Section>,
    notes: Vec<String>,
}

/// What a group's figures come with besides their rows.
#[derive(Debug, Serialize)]
struct Section {
    group: String,
    /// When and where they were measured, if known.
    measured: Option<Measured>,
    /// Paragraphs for under its tables.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    about: Vec<String>,
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
    let mut sections = Vec::new();
    for fragment in fragments {
        if let Some(first) = fragment.figures.first() {
            sections.push(Section {
                group: first.group.clone(),
                measured: fragment.measured.clone(),
                about: fragment.about.clone(),
            });
        }
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
        date: date(),
        commit: commit(),
        machine: machine(),
        figures: rows,
        sections,
        notes,
    };
    let json_dir = root.join("bench/results");
    std::fs::create_dir_all(&json_dir)?;
    std::fs::write(
        json_dir.join("latest.json"),
        serde_json::to_vec_pretty(&results)?,
    )?;
    std::fs::write(root.join("BENCHMARKS.md"), markdown::markdown(&results))?;
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
        setup: figure.setup,
        goal: figure.goal,
        goal_met,
        baton,
        peer,
        times_better_than_peer,
        baton_runs: figure.baton,
        peer_runs: figure.peer,
    }
}

fn date() -> String {
    crate::phase::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]).unwrap_or_default()
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
