//! The app's pages as tests drive them: its stable `data-testid`s and the
//! few moves every scenario starts with.

use std::time::Duration;

use super::{Browser, WAIT, wait_until};
use crate::PASSWORD;

pub const LOGIN_EMAIL: &str = "[data-testid=login-email]";
pub const LOGIN_PASSWORD: &str = "[data-testid=login-password]";
pub const LOGIN_SUBMIT: &str = "[data-testid=login-submit]";
pub const ROW: &str = "[data-testid=inbox-row]";
pub const CONNECTION: &str = "[data-testid=connection]";
pub const OFFLINE_BANNER: &str = "[data-testid=offline-banner]";

/// The inbox row of a conversation (`cnv_…`).
pub fn row(conversation: &str) -> String {
    format!("[data-testid=inbox-row][data-conversation='{conversation}']")
}

/// The picker option for an agent (`agt_…`).
pub fn option(agent: &str) -> String {
    format!("[data-testid=reassign-option][data-agent='{agent}']")
}

/// Opens the app, signs in with the team password, and waits for the live inbox.
pub async fn sign_in(browser: &Browser, email: &str) -> anyhow::Result<()> {
    browser.goto("/").await?;
    browser.wait_for(LOGIN_EMAIL, WAIT).await?;
    browser.type_into(LOGIN_EMAIL, email).await?;
    browser.type_into(LOGIN_PASSWORD, PASSWORD).await?;
    browser.click(LOGIN_SUBMIT).await?;
    browser.wait_for_text(CONNECTION, "Live", WAIT).await?;
    Ok(())
}

/// Switches the inbox to a view: `unassigned`, `mine` or `all`.
pub async fn view(browser: &Browser, view: &str) -> anyhow::Result<()> {
    browser.click(&format!("[data-testid=view-{view}]")).await
}

/// The bell's unread count, as its label reads it to a screen reader.
pub async fn unread(browser: &Browser) -> anyhow::Result<u64> {
    let label = browser
        .attr("[data-testid=bell]", "aria-label")
        .await?
        .unwrap_or_default();
    Ok(label
        .split_whitespace()
        .find_map(|word| word.trim_end_matches(',').parse().ok())
        .unwrap_or(0))
}

/// How many notifications in the bell's list are about the conversation in
/// document `doc` (opens the list to count, and closes it again).
pub async fn notices_about(browser: &Browser, doc: &str) -> anyhow::Result<usize> {
    const LIST: &str = "[data-testid=notifications]";
    let was_open = browser.find_displayed(LIST).await?.is_some();
    if !was_open {
        browser.click("[data-testid=bell]").await?;
        browser.wait_for(LIST, WAIT).await?;
    }
    let count = browser
        .count(&format!("[data-testid=notification][data-doc='{doc}']"))
        .await?;
    if !was_open {
        browser.click("[data-testid=bell]").await?;
    }
    Ok(count)
}

/// The inbox rows on screen, top to bottom, as conversation ids.
pub async fn rows_in_order(browser: &Browser) -> anyhow::Result<Vec<String>> {
    let ids = browser
        .script(
            "return [...document.querySelectorAll('[data-testid=inbox-row]')]
                .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
                .map((r) => r.dataset.conversation)",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(ids)?)
}

/// Opens the Reassign dropdown (of the open conversation, or the bulk bar's
/// with `bulk`), picks `agent` and clicks Assign.
pub async fn reassign_to(browser: &Browser, agent: &str, bulk: bool) -> anyhow::Result<()> {
    let button = if bulk {
        "[data-testid=bulk-reassign]"
    } else {
        "[data-testid=reassign-button]"
    };
    let what = format!(
        "{agent} to be assigned from `{button}` in {}",
        browser.label()
    );
    // WebKitWebDriver now and then drops a click or lands it elsewhere (the
    // dropdown closes): like a person, look whether each click took, and
    // open the dropdown again if it closed.
    wait_until(&what, WAIT, async || {
        open(browser, button, DROPDOWN).await?;
        let Some(choice) = browser.find_displayed(&option(agent)).await? else {
            return Ok(false);
        };
        choice.click().await?;
        if browser
            .attr(&option(agent), "aria-selected")
            .await?
            .as_deref()
            != Some("true")
        {
            return Ok(false);
        }
        let Some(confirm) = browser.find_displayed(CONFIRM).await? else {
            return Ok(false);
        };
        confirm.click().await?;
        Ok(browser
            .wait_gone(DROPDOWN, Duration::from_secs(2))
            .await
            .is_ok())
    })
    .await?;
    Ok(())
}

const DROPDOWN: &str = "[data-testid=reassign-dropdown]";
const CONFIRM: &str = "[data-testid=assign-confirm]";

/// Clicks `button` (which says whether it is open in `aria-expanded`) until
/// what it opens, `opened`, shows. WebKitWebDriver now and then dispatches
/// a click the page does not get (seen once in a few hundred): a person
/// would click again, and so does this, never on a button already open.
pub async fn open(browser: &Browser, button: &str, opened: &str) -> anyhow::Result<()> {
    let what = format!("`{button}` to open `{opened}` in {}", browser.label());
    wait_until(&what, WAIT, async || {
        if browser.find_displayed(opened).await?.is_some() {
            return Ok(true);
        }
        if browser.attr(button, "aria-expanded").await?.as_deref() != Some("true") {
            browser.click(button).await?;
        }
        Ok(browser
            .wait_for(opened, Duration::from_secs(2))
            .await
            .is_ok())
    })
    .await?;
    Ok(())
}

/// How many toasts there are: those shown plus the "+N more" behind them.
pub async fn toasts(browser: &Browser) -> anyhow::Result<usize> {
    let shown = browser.count("[data-testid=toast]").await?;
    let more = browser.text_now("[data-testid=toast-more]").await?;
    let hidden: usize = more
        .trim_start_matches('+')
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(shown + hidden)
}

/// Whether a click at the middle of the element at `css` reaches it (and
/// not something covering it).
pub async fn reachable(browser: &Browser, css: &str) -> anyhow::Result<bool> {
    let hit = browser
        .script(
            "const e = document.querySelector(arguments[0]);
             if (!e) return false;
             const r = e.getBoundingClientRect();
             const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
             return !!hit && (hit === e || e.contains(hit));",
            vec![serde_json::Value::from(css)],
        )
        .await?;
    Ok(hit == serde_json::Value::Bool(true))
}

/// Whether the boxes of the elements at `a` and `b` overlap on screen.
pub async fn overlap(browser: &Browser, a: &str, b: &str) -> anyhow::Result<bool> {
    let answer = browser
        .script(
            "const [a, b] = [arguments[0], arguments[1]].map((s) => document.querySelector(s));
             if (!a || !b) return false;
             const [p, q] = [a.getBoundingClientRect(), b.getBoundingClientRect()];
             return p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom;",
            vec![serde_json::Value::from(a), serde_json::Value::from(b)],
        )
        .await?;
    Ok(answer == serde_json::Value::Bool(true))
}
