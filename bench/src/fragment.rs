//! The results one measurement writes to `target/bench/<name>.json`, in the
//! schema `cargo xtask bench` merges into `BENCHMARKS.md` (docs/benchmarks.md
//! describes it). Every run's value is kept; the report takes medians and
//! spreads.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Version of the fragment schema.
pub const SCHEMA: u32 = 1;

/// One measurement's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fragment {
    pub schema: u32,
    /// The file's stem, e.g. `latency`.
    pub name: String,
    pub figures: Vec<Figure>,
    /// Context worth reading next to the figures (load generator CPU, …).
    #[serde(default)]
    pub notes: Vec<String>,
    /// Paragraphs printed under the measurement's tables: its setup, and
    /// what its figures do and do not say.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub about: Vec<String>,
}

/// One figure: a value per run for Baton and, where the peer runs the same
/// load, for the peer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    /// Stable across commits, e.g. `latency.500.p99`.
    pub id: String,
    /// The measurement it belongs to, e.g. `1. Assign-to-visible latency`.
    pub group: String,
    /// What was measured, with the load stated.
    pub label: String,
    /// `ms`, `s`, `deliveries/s`, `KiB`, `bytes`, …
    pub unit: String,
    /// Whether a smaller value is better.
    pub lower_is_better: bool,
    /// The goal, if there is one.
    #[serde(default)]
    pub goal: Option<Goal>,
    /// One value per run.
    pub baton: Vec<f64>,
    /// One value per run of the peer under the same load; empty if not run.
    #[serde(default)]
    pub peer: Vec<f64>,
    /// Where a measurement compares setups of Baton: the one measured (the
    /// report gives each setup a column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<String>,
}

/// A goal: the median must be below (or above) `value`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Goal {
    /// `<` or `>`.
    pub op: String,
    pub value: f64,
}

impl Goal {
    pub fn below(value: f64) -> Option<Goal> {
        Some(Goal {
            op: "<".into(),
            value,
        })
    }
    pub fn above(value: f64) -> Option<Goal> {
        Some(Goal {
            op: ">".into(),
            value,
        })
    }
}

impl Fragment {
    pub fn new(name: &str) -> Fragment {
        Fragment {
            schema: SCHEMA,
            name: name.to_owned(),
            figures: Vec::new(),
            notes: Vec::new(),
            about: Vec::new(),
        }
    }

    /// The figure `id`, created with `make` on first use.
    pub fn figure(&mut self, id: &str, make: impl FnOnce() -> Figure) -> &mut Figure {
        if let Some(at) = self.figures.iter().position(|f| f.id == id) {
            return &mut self.figures[at];
        }
        let mut figure = make();
        figure.id = id.to_owned();
        self.figures.push(figure);
        let last = self.figures.len() - 1;
        &mut self.figures[last]
    }

    /// Writes `<dir>/<name>.json`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{}.json", self.name));
        std::fs::write(&path, serde_json::to_vec_pretty(self)?)?;
        Ok(())
    }
}

impl Figure {
    /// A figure without values yet.
    pub fn new(group: &str, label: &str, unit: &str, lower_is_better: bool) -> Figure {
        Figure {
            id: String::new(),
            group: group.to_owned(),
            label: label.to_owned(),
            unit: unit.to_owned(),
            lower_is_better,
            goal: None,
            baton: Vec::new(),
            peer: Vec::new(),
            setup: None,
        }
    }

    pub fn with_goal(mut self, goal: Option<Goal>) -> Figure {
        self.goal = goal;
        self
    }

    /// The figure of one of the setups a measurement compares.
    pub fn on_setup(mut self, setup: &str) -> Figure {
        self.setup = Some(setup.to_owned());
        self
    }
}
