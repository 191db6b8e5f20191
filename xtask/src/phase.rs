//! Running commands as named phases with visible progress and durations.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Durations of the phases run so far, printed as a summary at the end.
#[derive(Default)]
pub struct Phases {
    /// Name, duration, and whether it counts towards the total (phases run
    /// side by side count once, as their wall time).
    done: Vec<(String, Duration, bool)>,
}

impl Phases {
    /// Runs `command` as phase `name`, failing the whole run if it fails.
    pub fn run(&mut self, name: &str, command: &mut Command) -> anyhow::Result<()> {
        self.time(name, || status(command))
    }

    /// Times `work` as phase `name`.
    pub fn time<T>(
        &mut self,
        name: &str,
        work: impl FnOnce() -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        println!("\n==> {name}");
        let start = Instant::now();
        let result = work();
        let took = start.elapsed();
        println!(
            "<== {name}: {} in {:.1} s",
            if result.is_ok() { "ok" } else { "FAILED" },
            took.as_secs_f64()
        );
        self.done.push((name.to_owned(), took, true));
        result.with_context(|| format!("phase '{name}' failed"))
    }

    /// Prints every phase's duration and the total.
    pub fn summary(&self) {
        println!("\nPhase durations:");
        let mut total = Duration::ZERO;
        for (name, took, counted) in &self.done {
            let mark = if *counted { "" } else { "  ∥ " };
            println!("  {:>7.1} s  {mark}{name}", took.as_secs_f64());
            if *counted {
                total += *took;
            }
        }
        println!("  {:>7.1} s  total", total.as_secs_f64());
    }
}

/// Runs a command with inherited output; an error names the command.
pub fn status(command: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} exited with {status}");
    }
    Ok(())
}

/// The trimmed standard output of a command, or `None` if it cannot run.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `cargo` with the workspace root as working directory.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(crate::root());
    command
}

/// Phases that run one after another, beside other lanes.
pub type Lane = Vec<(String, Command)>;

impl Phases {
    /// Runs `lanes` side by side (each lane's phases in order), each phase
    /// timed on its own with its output kept in `logs/<n>.log` and printed
    /// when it ends (all of it on failure, the end otherwise). Fails if any
    /// phase failed, after every lane has finished.
    pub fn lanes(&mut self, lanes: Vec<Lane>, logs: &std::path::Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(logs)?;
        let started = Instant::now();
        let handles: Vec<_> = lanes
            .into_iter()
            .enumerate()
            .map(|(lane, phases)| {
                let logs = logs.to_owned();
                std::thread::spawn(move || {
                    let mut done = Vec::new();
                    for (n, (name, mut command)) in phases.into_iter().enumerate() {
                        let log = logs.join(format!("lane-{lane}-{n}.log"));
                        println!(
                            "\n==> {name} (beside other phases; output in {})",
                            log.display()
                        );
                        let start = Instant::now();
                        let result = run_logged(&mut command, &log);
                        let took = start.elapsed();
                        print_log(&name, &log, result.is_ok());
                        println!(
                            "<== {name}: {} in {:.1} s",
                            if result.is_ok() { "ok" } else { "FAILED" },
                            took.as_secs_f64()
                        );
                        done.push((name, took, result));
                    }
                    done
                })
            })
            .collect();
        let mut failed = Vec::new();
        for handle in handles {
            let done = handle
                .join()
                .map_err(|_| anyhow::anyhow!("a lane of phases panicked"))?;
            for (name, took, result) in done {
                if let Err(err) = result {
                    failed.push(format!("phase '{name}' failed: {err:#}"));
                }
                self.done.push((name, took, false));
            }
        }
        self.done.push((
            "the ∥ phases above, side by side (wall time)".to_owned(),
            started.elapsed(),
            true,
        ));
        if !failed.is_empty() {
            bail!("{}", failed.join("\n"));
        }
        Ok(())
    }
}

fn run_logged(command: &mut Command, log: &std::path::Path) -> anyhow::Result<()> {
    let file = std::fs::File::create(log)?;
    command.stdout(file.try_clone()?).stderr(file);
    status(command)
}

/// Lines of a successful phase's log shown (a failed one shows all).
const LOG_TAIL: usize = 30;

fn print_log(name: &str, log: &std::path::Path, ok: bool) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let from = if ok {
        lines.len().saturating_sub(LOG_TAIL)
    } else {
        0
    };
    println!(
        "--- {name}: {}",
        if from > 0 {
            "the end of its output"
        } else {
            "its output"
        }
    );
    for line in &lines[from..] {
        println!("{line}");
    }
}
