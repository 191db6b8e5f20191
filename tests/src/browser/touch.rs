//! Touching the page as a phone's user does: a tap is a W3C touch pointer
//! (no mouse, no hover, no modifier keys) on a phone-sized browser, and a
//! click at desktop size.

use serde_json::json;
use thirtyfour::common::command::{Actions, Command};

use super::{Browser, Screen, WAIT, wait_until};

impl Browser {
    /// Taps the element at `css` once it shows and takes the touch (a
    /// re-render may refuse it for a moment). At desktop size, a click.
    pub async fn tap(&self, css: &str) -> anyhow::Result<()> {
        if self.screen() == Screen::Desktop {
            return self.click(css).await;
        }
        let what = format!("`{css}` in {} to take a tap", self.label());
        wait_until(&what, WAIT, async || {
            let Some(element) = self.find_displayed(css).await? else {
                return Ok(false);
            };
            element.scroll_into_view().await?;
            let finger = json!([{
                "type": "pointer",
                "id": "finger",
                "parameters": {"pointerType": "touch"},
                "actions": [
                    {"type": "pointerMove", "duration": 0, "origin": element.to_json()?, "x": 0, "y": 0},
                    {"type": "pointerDown", "button": 0},
                    {"type": "pointerUp", "button": 0},
                ],
            }]);
            let driver = self.driver()?;
            driver
                .handle()
                .cmd(Command::PerformActions(Actions::from(finger)))
                .await?;
            driver.handle().cmd(Command::ReleaseActions).await?;
            Ok(true)
        })
        .await?;
        Ok(())
    }

    /// Whether the page is wider than the window (it scrolls sideways).
    pub async fn scrolls_sideways(&self) -> anyhow::Result<bool> {
        let wide = self
            .script(
                "const d = document.documentElement;
                 return d.scrollWidth > window.innerWidth || document.body.scrollWidth > window.innerWidth",
                vec![],
            )
            .await?;
        Ok(wide == serde_json::Value::Bool(true))
    }
}
