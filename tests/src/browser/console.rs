//! The page's console: Chromium's from chromedriver's log endpoint;
//! Firefox writes it into geckodriver's output (with its own chrome's
//! messages); WebKit's driver keeps none, so a hook in the page does.

use super::{Browser, Engine};

impl Browser {
    /// Every console entry of this browser so far: Chromium's as `LEVEL
    /// message`, Firefox's as its driver's log has them, WebKit's as
    /// [`HOOK`] kept them.
    pub async fn console(&self) -> anyhow::Result<Vec<String>> {
        let fresh: Vec<String> = match self.engine {
            Engine::Chromium => self
                .driver()?
                .browser_log()
                .await?
                .into_iter()
                .map(|e| format!("{} {}", e.level, e.message))
                .collect(),
            Engine::Firefox => {
                let log = std::fs::read_to_string(&self.process.log).unwrap_or_default();
                return Ok(from_firefox_log(&log));
            }
            Engine::WebKit => {
                // A page on its way out answers nothing: keep what was read.
                let kept = self.script(READ, vec![]).await.unwrap_or_default();
                let kept: Vec<String> = serde_json::from_value(kept).unwrap_or_default();
                let mut all = self.console.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() >= all.len() {
                    *all = kept;
                }
                return Ok(all.clone());
            }
        };
        let mut all = self.console.lock().unwrap_or_else(|e| e.into_inner());
        all.extend(fresh);
        Ok(all.clone())
    }

    /// WebKitGTK's driver has no console log: a hook in the page keeps it
    /// (from when the page was loaded through [`Browser::goto`] or
    /// [`Browser::reload`] on).
    pub(super) async fn keep_console(&self) -> anyhow::Result<()> {
        if self.engine == Engine::WebKit {
            self.script(HOOK, vec![]).await?;
        }
        Ok(())
    }

    /// Console entries at error level (uncaught errors, `console.error`,
    /// failed requests).
    pub async fn console_errors(&self) -> anyhow::Result<Vec<String>> {
        let all = self.console().await?;
        Ok(all
            .into_iter()
            .filter(|e| self.engine.is_console_error(e))
            .collect())
    }
}

/// Records every console call and uncaught error into `sessionStorage`, so
/// it outlives a reload of the tab.
pub const HOOK: &str = r#"
if (!window.__batonConsole) {
  window.__batonConsole = true;
  const keep = (level, args) => {
    try {
      const list = JSON.parse(sessionStorage.getItem('baton.console') || '[]');
      list.push(level + ' ' + args.map(String).join(' '));
      sessionStorage.setItem('baton.console', JSON.stringify(list.slice(-500)));
    } catch (_) {}
  };
  for (const level of ['log', 'info', 'warn', 'error']) {
    const original = console[level];
    console[level] = (...args) => { keep(level.toUpperCase(), args); original.apply(console, args); };
  }
  addEventListener('error', (e) => keep('ERROR', [`${e.message} ${e.filename}:${e.lineno}`]));
  addEventListener('unhandledrejection', (e) => keep('ERROR', [`unhandled rejection: ${e.reason}`]));
}
"#;

/// What [`HOOK`] kept.
pub const READ: &str = "return JSON.parse(sessionStorage.getItem('baton.console') || '[]')";

/// The console lines of geckodriver's output.
pub fn from_firefox_log(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.starts_with("console.") || l.starts_with("JavaScript"))
        .map(str::to_owned)
        .collect()
}
