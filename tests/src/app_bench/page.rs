//! The app in headless Chromium against a server holding a large demo
//! workspace: time to the first inbox rows (first sign-in, and a reload that
//! boots from IndexedDB), long tasks while scrolling, and a bulk reassign of
//! 1,000 (the app's own work, the longest task, and when the server holds
//! them all). A script installed before every page load records the first
//! row and every long task (`PerformanceObserver`), so nothing is timed
//! from outside the page except the server's answer.

use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use crate::browser::{Browser, WAIT, wait_for_value, wait_until};

/// Installed before the app's own scripts on every navigation.
const OBSERVER: &str = r#"
window.__bench = { firstRow: null, longTasks: [] };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench.longTasks.push([e.startTime, e.duration]);
}).observe({ type: 'longtask', buffered: true });
new MutationObserver(() => {
  if (window.__bench.firstRow === null && document.querySelector('[data-testid=inbox-row]')) {
    window.__bench.firstRow = performance.now();
  }
}).observe(document, { childList: true, subtree: true });
"#;

/// What one session in the browser measured, in milliseconds.
#[derive(Debug, Default, Clone)]
pub struct PageRun {
    /// Sign-in click → first inbox row (empty browser, first sync).
    pub first_rows_cold: f64,
    /// Sign-in click → every open conversation held.
    pub full_sync_cold: f64,
    /// Navigation start of a reload → first inbox row (from IndexedDB).
    pub first_rows_warm: f64,
    pub scroll_longest_task: f64,
    pub scroll_long_tasks: usize,
    /// Assign click → the app's last slice done.
    pub bulk_wall: f64,
    /// The app's own work in the slices (the rest is the page painting).
    pub bulk_work: f64,
    pub bulk_longest_task: f64,
    /// Assign click → the server's projection shows all of them assigned.
    pub bulk_server: f64,
    /// The bulk's time by part (apply, send, rows, issue, keep, draw), in ms, for the notes.
    pub bulk_parts: Vec<(String, f64)>,
    /// The first sign-in's documents that came whole: per part, how many
    /// frames and the milliseconds spent.
    pub fetch_parts: Vec<(String, u64, f64)>,
}

async fn bench_value(browser: &Browser, path: &str) -> anyhow::Result<Value> {
    browser
        .script(
            &format!("return window.__bench && window.__bench.{path}"),
            vec![],
        )
        .await
}

fn longest_since(tasks: &Value, since: f64) -> (f64, usize) {
    let mut longest = 0.0f64;
    let mut count = 0;
    for task in tasks.as_array().into_iter().flatten() {
        let (start, duration) = (
            task[0].as_f64().unwrap_or(0.0),
            task[1].as_f64().unwrap_or(0.0),
        );
        if start >= since {
            longest = longest.max(duration);
            count += 1;
        }
    }
    (longest, count)
}

/// How many open conversations the server's projection holds for `view`.
async fn server_count(
    server_url: &str,
    client: &reqwest::Client,
    view: &str,
) -> anyhow::Result<u64> {
    let answer: Value = client
        .get(format!(
            "{server_url}/api/conversations?view={view}&limit=1"
        ))
        .send()
        .await?
        .json()
        .await?;
    answer["counts"][view]
        .as_u64()
        .with_context(|| format!("no {view} count in {answer}"))
}

/// One measured session: `email`/`password` signs in to a server holding a
/// large workspace, and reassigns 1,000 unassigned conversations to the
/// first other agent in the dropdown.
pub async fn run(
    server_url: &str,
    email: &str,
    password: &str,
    label: &str,
) -> anyhow::Result<PageRun> {
    let mut out = PageRun::default();
    let client = crate::client();
    let login = client
        .post(format!("{server_url}/api/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?;
    anyhow::ensure!(login.status() == 200, "cannot sign in as {email}");
    let open_total = server_count(server_url, &client, "all").await?;

    let browser = Browser::open(server_url, label).await?;
    browser
        .driver()?
        .cdp()
        .send_raw(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": OBSERVER }),
        )
        .await?;

    // First sign-in: nothing in the browser yet.
    browser.goto("/").await?;
    browser
        .type_into("[data-testid=login-email]", email)
        .await?;
    browser
        .type_into("[data-testid=login-password]", password)
        .await?;
    let clicked = browser
        .script(
            "const t = performance.now();
             document.querySelector('[data-testid=login-submit]').click();
             return t;",
            vec![],
        )
        .await?
        .as_f64()
        .context("no click time")?;
    let (first, _) = wait_for_value("the first inbox row", Duration::from_secs(60), async || {
        Ok(bench_value(&browser, "firstRow").await?.as_f64())
    })
    .await?;
    out.first_rows_cold = first - clicked;
    browser.click("[data-testid=view-all]").await?;
    let expected = open_total.to_string();
    wait_until(
        "every open conversation to arrive",
        Duration::from_secs(600),
        async || Ok(browser.text_now("[data-testid=count-all]").await? == expected),
    )
    .await?;
    let now = browser.script("return performance.now()", vec![]).await?;
    out.full_sync_cold = now.as_f64().unwrap_or(0.0) - clicked;
    for part in ["load", "rows", "issue"] {
        let spent = browser
            .script(
                "const m = performance.getEntriesByName(arguments[0], 'measure');
                 return [m.length, m.reduce((sum, e) => sum + e.duration, 0)]",
                vec![json!(format!("baton:fetch-{part}"))],
            )
            .await?;
        let count = spent[0].as_u64().unwrap_or(0);
        let ms = spent[1].as_f64().unwrap_or(0.0);
        out.fetch_parts.push((part.to_owned(), count, ms));
    }
    browser
        .wait_for(
            "[data-testid=connection][data-saved=true]",
            Duration::from_secs(120),
        )
        .await?;

    // A reload boots from IndexedDB.
    browser.reload().await?;
    let (first, _) = wait_for_value(
        "the first row after a reload",
        Duration::from_secs(60),
        async || Ok(bench_value(&browser, "firstRow").await?.as_f64()),
    )
    .await?;
    out.first_rows_warm = first;
    browser
        .wait_for_text("[data-testid=connection]", "Live", Duration::from_secs(60))
        .await?;

    // Scrolling: 60 steps of 900 px, a frame apart.
    browser.click("[data-testid=view-all]").await?;
    let start = browser
        .script_async(
            "const done = arguments[arguments.length - 1];
             const list = document.querySelector('[data-testid=inbox-list]');
             const start = performance.now();
             let step = 0;
             const next = () => {
               if (step++ === 60) { done(start); return; }
               list.scrollTop += 900;
               requestAnimationFrame(() => setTimeout(next, 0));
             };
             next();",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    let tasks = bench_value(&browser, "longTasks").await?;
    (out.scroll_longest_task, out.scroll_long_tasks) = longest_since(&tasks, start);

    // Bulk: the first row's checkbox, then Shift+Click on the 1,000th.
    browser.click("[data-testid=view-unassigned]").await?;
    let unassigned = server_count(server_url, &client, "unassigned").await?;
    anyhow::ensure!(
        unassigned >= 1000,
        "only {unassigned} unassigned: seed a larger workspace"
    );
    browser
        .script(
            "document.querySelector('[data-testid=inbox-list]').scrollTop = 0",
            vec![],
        )
        .await?;
    browser
        .click("[data-testid=inbox-row][data-index='0'] [data-testid=row-select]")
        .await?;
    browser
        .script(
            "document.querySelector('[data-testid=inbox-list]').scrollTop = 999 * 78 - 200",
            vec![],
        )
        .await?;
    browser
        .shift_click("[data-testid=inbox-row][data-index='999'] [data-testid=row-select]")
        .await?;
    browser
        .wait_for_text("[data-testid=bulk-count]", "1000 selected", WAIT)
        .await?;
    browser.click("[data-testid=bulk-reassign]").await?;
    let target = browser
        .script(
            "return document.querySelector('[data-testid=reassign-option]').dataset.agent",
            vec![],
        )
        .await?;
    let target = target
        .as_str()
        .context("no agent in the dropdown")?
        .to_owned();
    browser
        .click(&format!(
            "[data-testid=reassign-option][data-agent='{target}']"
        ))
        .await?;
    let assigned_before = assigned(server_url, &client).await?;
    let started = Instant::now();
    // The server is watched from the click on, beside the page's own
    // figures, so asking the page does not delay seeing the server done.
    let server_done = {
        let client = client.clone();
        let server_url = server_url.to_owned();
        tokio::spawn(async move {
            let deadline = started + Duration::from_secs(120);
            loop {
                let held = assigned(&server_url, &client).await;
                if held.is_ok_and(|n| n >= assigned_before + 1000) {
                    return anyhow::Ok(started.elapsed());
                }
                anyhow::ensure!(
                    Instant::now() < deadline,
                    "waited 120 s for the server to hold all 1,000"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let clicked = browser
        .script(
            "const t = performance.now();
             document.querySelector('[data-testid=assign-confirm]').click();
             return t;",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    let (whole, _) = wait_for_value(
        "the bulk reassign to finish",
        Duration::from_secs(60),
        async || {
            let found = browser
                .script(
                    "const m = performance.getEntriesByName('baton:bulk', 'measure');
                 return m.length ? m[m.length - 1].startTime + m[m.length - 1].duration : null",
                    vec![],
                )
                .await?;
            Ok(found.as_f64())
        },
    )
    .await?;
    out.bulk_wall = whole - clicked;
    out.bulk_work = browser
        .script(
            "return performance.getEntriesByName('baton:bulk-slice', 'measure')
                .filter((m) => m.startTime >= arguments[0])
                .reduce((sum, m) => sum + m.duration, 0)",
            vec![json!(clicked)],
        )
        .await?
        .as_f64()
        .unwrap_or(0.0);
    for part in ["apply", "send", "rows", "issue", "keep", "draw"] {
        let spent = browser
            .script(
                "return performance.getEntriesByName(arguments[1], 'measure')
                    .filter((m) => m.startTime >= arguments[0])
                    .reduce((sum, m) => sum + m.duration, 0)",
                vec![json!(clicked), json!(format!("baton:bulk-{part}"))],
            )
            .await?
            .as_f64()
            .unwrap_or(0.0);
        out.bulk_parts.push((part.to_owned(), spent));
    }
    out.bulk_server = server_done.await??.as_secs_f64() * 1000.0;
    let tasks = bench_value(&browser, "longTasks").await?;
    (out.bulk_longest_task, _) = longest_since(&tasks, clicked);
    browser.close().await?;
    Ok(out)
}

/// Open conversations that have an assignee, as the server's projection
/// counts them (the demo runs without simulated customers, so only the
/// bulk reassign moves this).
async fn assigned(server_url: &str, client: &reqwest::Client) -> anyhow::Result<u64> {
    let all = server_count(server_url, client, "all").await?;
    let unassigned = server_count(server_url, client, "unassigned").await?;
    Ok(all.saturating_sub(unassigned))
}
