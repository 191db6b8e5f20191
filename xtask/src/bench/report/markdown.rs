//! `BENCHMARKS.md` from the merged results: a section per group, with a
//! table of Baton against the peer; where a measurement compares setups of
//! Baton, a table with a column per setup first; then the measurement's
//! own paragraphs, and every run's notes at the end.

use std::fmt::Write as _;

use super::{Results, Row, Stats};

pub(super) fn markdown(results: &Results) -> String {
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
    let mut groups: Vec<&str> = Vec::new();
    for row in &results.figures {
        if !groups.contains(&row.group.as_str()) {
            groups.push(&row.group);
        }
    }
    for group in groups {
        let rows: Vec<&Row> = results
            .figures
            .iter()
            .filter(|r| r.group == group)
            .collect();
        let _ = writeln!(md, "\n## {group}\n");
        let sections: Vec<_> = results
            .sections
            .iter()
            .filter(|s| s.group == group)
            .collect();
        for measured in sections.iter().filter_map(|s| s.measured.as_ref()) {
            if measured.commit != results.commit || measured.cpu != results.machine.cpu {
                let _ = writeln!(
                    md,
                    "These figures come from an earlier run: {}, commit `{}`, {}.\n",
                    measured.date, measured.commit, measured.cpu
                );
            }
        }
        let (by_setup, plain): (Vec<&Row>, Vec<&Row>) =
            rows.into_iter().partition(|r| r.setup.is_some());
        if !by_setup.is_empty() {
            setup_table(&mut md, &by_setup);
        }
        if !plain.is_empty() {
            if !by_setup.is_empty() {
                md.push('\n');
            }
            peer_table(&mut md, &plain);
        }
        for paragraph in sections.iter().flat_map(|s| &s.about) {
            let _ = writeln!(md, "\n{paragraph}");
        }
    }
    if !results.notes.is_empty() {
        let _ = writeln!(md, "\n## Run notes\n");
        for note in &results.notes {
            let _ = writeln!(md, "- {note}");
        }
    }
    md
}

/// Baton and the peer side by side, with the goal.
fn peer_table(md: &mut String, rows: &[&Row]) {
    let _ = writeln!(
        md,
        "| Figure | Baton | spread | goal | peer | spread | vs peer |"
    );
    let _ = writeln!(md, "|---|---:|---:|---|---:|---:|---:|");
    for row in rows {
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
            value(row.baton, &row.unit),
            spread(row.baton),
            goal,
            value(row.peer, &row.unit),
            spread(row.peer),
            row.times_better_than_peer
                .map_or(String::new(), |r| format!("{}×", number(r))),
        );
    }
}

/// A row per figure, a column per setup (in the order they first appear);
/// each cell the median with its min–max.
fn setup_table(md: &mut String, rows: &[&Row]) {
    let mut setups: Vec<&str> = Vec::new();
    let mut labels: Vec<(&str, &str)> = Vec::new();
    for row in rows {
        let setup = row.setup.as_deref().unwrap_or_default();
        if !setups.contains(&setup) {
            setups.push(setup);
        }
        if !labels.iter().any(|(label, _)| *label == row.label) {
            labels.push((&row.label, &row.unit));
        }
    }
    let _ = writeln!(md, "| Figure | {} |", setups.join(" | "));
    let _ = writeln!(md, "|---|{}", "---:|".repeat(setups.len()));
    for (label, unit) in labels {
        let cells: Vec<String> = setups
            .iter()
            .map(|setup| {
                let found = rows
                    .iter()
                    .find(|r| r.label == label && r.setup.as_deref() == Some(setup));
                match found.and_then(|r| r.baton) {
                    Some(stats) if stats.runs > 1 => format!(
                        "{} {unit} ({}–{})",
                        number(stats.median),
                        number(stats.min),
                        number(stats.max)
                    ),
                    Some(stats) => format!("{} {unit}", number(stats.median)),
                    None => "—".into(),
                }
            })
            .collect();
        let _ = writeln!(md, "| {label} | {} |", cells.join(" | "));
    }
}

fn value(stats: Option<Stats>, unit: &str) -> String {
    stats.map_or("—".into(), |s| format!("{} {unit}", number(s.median)))
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
