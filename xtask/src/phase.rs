//! Running commands as named phases with visible progress and durations.

use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Durations of the phases run so far, printed as a summary at the end.
#[derive(Default)]
pub struct Phases {
    done: Vec<(String, Duration)>,
}

impl Phases {
    /// Runs `command` as phase `name`, failing the whole run if it fails.
    pub fn run(&mut self, name: &str, command: &mut Command) -> anyhow::Result<()> {
        self.time(name, || status(command))
    }

    /// Times `work` as phase `name`.
    pub fn time(
        &mut self,
        name: &str,
        work: impl FnOnce() -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        println!("\n==> {name}");
        let start = Instant::now();
        let result = work();
        let took = start.elapsed();
        println!(
            "<== {name}: {} in {:.1} s",
            if result.is_ok() { "ok" } else { "FAILED" },
            took.as_secs_f64()
        );
        self.done.push((name.to_owned(), took));
        result.with_context(|| format!("phase '{name}' failed"))
    }

    /// Prints every phase's duration and the total.
    pub fn summary(&self) {
        println!("\nPhase durations:");
        let mut total = Duration::ZERO;
        for (name, took) in &self.done {
            println!("  {:>7.1} s  {name}", took.as_secs_f64());
            total += *took;
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
