//! The page's console in engines whose driver has no log endpoint:
//! Firefox writes it into geckodriver's output (with its own chrome's
//! messages), and WebKit keeps it through a hook in the page.

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
