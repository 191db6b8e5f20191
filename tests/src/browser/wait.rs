//! Waiting for a condition with a deadline, looking again every 50 ms:
//! never a fixed sleep.

use std::time::{Duration, Instant};

use anyhow::bail;

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// Waits until `check` answers `Some`, looking again every 50 ms; an error
/// from `check` counts as "not yet" and is reported if the deadline passes.
/// Returns the value and how long it took.
pub async fn wait_for_value<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<(T, Duration)> {
    let started = Instant::now();
    let mut last_error = None;
    loop {
        match check().await {
            Ok(Some(value)) => return Ok((value, started.elapsed())),
            Ok(None) => {}
            Err(err) => last_error = Some(err),
        }
        if started.elapsed() > within {
            let why = last_error.map_or(String::new(), |e| format!(" (last error: {e:#})"));
            bail!("waited {within:?} for {what}{why}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until `check` holds; returns how long it took (scenarios log it).
pub async fn wait_until(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<Duration> {
    let (_, took) = wait_for_value(what, within, async || Ok(check().await?.then_some(()))).await?;
    Ok(took)
}
