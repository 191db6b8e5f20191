//! What a browser test leaves behind under `target/e2e/`: screenshots of the
//! states worth seeing, and on a failed step a screenshot and the console of
//! every browser in it, named after the step.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Instant;

use futures_util::FutureExt;

use super::Browser;

/// `target/e2e/` of this workspace (respects `CARGO_TARGET_DIR`).
pub fn e2e_dir() -> PathBuf {
    crate::target_dir().join("e2e")
}

/// A file name from free text: "scenario 1: A replies" → "scenario-1-a-replies".
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Runs one named step of a scenario. When it fails — an error or a panic
/// such as a failed `assert!` — every browser in `browsers` saves a
/// screenshot and its console named after the step, and the error names the
/// step. Steps log their duration (shown when a test fails).
///
/// ```no_run
/// # async fn demo(ana: &baton_tests::browser::Browser) -> anyhow::Result<()> {
/// use baton_tests::browser::{WAIT, step};
/// step("scenario 1: the app boots", &[ana], async {
///     ana.goto("/").await?;
///     ana.wait_for_text("[data-testid=server-status]", "Server: ok", WAIT).await?;
///     Ok(())
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub async fn step<T>(
    name: &str,
    browsers: &[&Browser],
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let started = Instant::now();
    let outcome = AssertUnwindSafe(work).catch_unwind().await;
    let took = started.elapsed();
    match outcome {
        Ok(Ok(value)) => {
            eprintln!("step '{name}': ok in {:.2} s", took.as_secs_f64());
            Ok(value)
        }
        Ok(Err(err)) => {
            let saved = save_failure(name, browsers).await;
            Err(err.context(format!(
                "step '{name}' failed after {:.2} s; {saved}",
                took.as_secs_f64()
            )))
        }
        Err(panic) => {
            let saved = save_failure(name, browsers).await;
            eprintln!(
                "step '{name}' panicked after {:.2} s; {saved}",
                took.as_secs_f64()
            );
            std::panic::resume_unwind(panic)
        }
    }
}

/// Characters of a failed page's text, and console lines, printed with the
/// error: CI keeps the test output but not `target/e2e/`.
const PAGE_TEXT_SHOWN: usize = 1_500;
const CONSOLE_LINES_SHOWN: usize = 20;

/// Prints where `browser` is, what its page says and its latest console lines.
async fn print_state(browser: &Browser) {
    let page = browser
        .script(
            "return location.href + '\\n' + (document.body ? document.body.innerText : '(no body)')",
            vec![],
        )
        .await
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .unwrap_or_else(|err| format!("(page unreadable: {err:#})"));
    let page: String = page.chars().take(PAGE_TEXT_SHOWN).collect();
    eprintln!("--- {} at failure:\n{page}", browser.label());
    if let Ok(console) = browser.console().await {
        let from = console.len().saturating_sub(CONSOLE_LINES_SHOWN);
        eprintln!(
            "--- {} console (last {}):",
            browser.label(),
            console.len() - from
        );
        for line in &console[from..] {
            eprintln!("{line}");
        }
    }
}

/// Saves each browser's screenshot and console, and prints its page;
/// says where the files went.
async fn save_failure(name: &str, browsers: &[&Browser]) -> String {
    let stem = format!("failed-{}", slug(name));
    let mut notes = Vec::new();
    for browser in browsers {
        print_state(browser).await;
        match browser.screenshot(&stem).await {
            Ok(path) => notes.push(format!("screenshot {}", path.display())),
            Err(err) => notes.push(format!("no screenshot of {} ({err:#})", browser.label())),
        }
        match browser.save_console(&stem).await {
            Ok(path) => notes.push(format!("console {}", path.display())),
            Err(err) => notes.push(format!("no console of {} ({err:#})", browser.label())),
        }
    }
    if notes.is_empty() {
        "no browser to record".to_owned()
    } else {
        notes.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn step_names_become_file_names() {
        assert_eq!(slug("scenario 1: A replies"), "scenario-1-a-replies");
        assert_eq!(slug("  Ana → Ben!! "), "ana-ben");
    }
}
