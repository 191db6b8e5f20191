//! The app's pages as tests drive them: its stable `data-testid`s and the
//! few moves every scenario starts with.

use super::{Browser, WAIT};
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
