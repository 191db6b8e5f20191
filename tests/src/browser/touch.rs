//! Pointer moves beyond a plain click, as raw W3C actions (every engine's
//! driver takes them alike): a tap is a touch pointer (no mouse, no hover,
//! no modifier keys) on a phone-sized browser, and a click at desktop size;
//! Shift+Click holds Shift across the whole click.

use anyhow::Context;
use serde_json::{Value, json};
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
                "actions": press(element.to_json()?),
            }]);
            self.perform(finger).await?;
            Ok(true)
        })
        .await?;
        Ok(())
    }

    /// Shift+Click on the element at `css` (range selection).
    pub async fn shift_click(&self, css: &str) -> anyhow::Result<()> {
        const SHIFT: &str = "\u{E008}";
        let element = self.wait_for(css, super::WAIT).await?;
        // Actions do not scroll, unlike a click: a row below the fold
        // (the toasts' strip shortens the list) must come into view first.
        element.scroll_into_view().await?;
        let mut pointer = vec![json!({"type": "pause", "duration": 0})];
        pointer.extend(press(element.to_json()?));
        pointer.push(json!({"type": "pause", "duration": 0}));
        let mut keys = vec![json!({"type": "keyDown", "value": SHIFT})];
        keys.extend((0..3).map(|_| json!({"type": "pause", "duration": 0})));
        keys.push(json!({"type": "keyUp", "value": SHIFT}));
        let actions = json!([
            {"type": "key", "id": "keyboard", "actions": keys},
            {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": pointer},
        ]);
        self.perform(actions)
            .await
            .with_context(|| format!("Shift+Click on `{css}` in {}", self.label()))
    }

    async fn perform(&self, actions: Value) -> anyhow::Result<()> {
        let handle = self.driver()?.handle();
        handle
            .cmd(Command::PerformActions(Actions::from(actions)))
            .await?;
        handle.cmd(Command::ReleaseActions).await?;
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

/// Move to the middle of `element`, press, release: three ticks.
fn press(element: Value) -> Vec<Value> {
    vec![
        json!({"type": "pointerMove", "duration": 0, "origin": element, "x": 0, "y": 0}),
        json!({"type": "pointerDown", "button": 0}),
        json!({"type": "pointerUp", "button": 0}),
    ]
}
