//! User Timing marks and measures (`performance.getEntriesByName`), so the
//! benchmarks read what the app spent on its own work rather than guess it
//! from outside. A browser without the Performance API just has none.

fn performance() -> Option<web_sys::Performance> {
    web_sys::window().and_then(|w| w.performance())
}

/// Marks this moment as `name`.
pub fn mark(name: &str) {
    if let Some(p) = performance() {
        let _ = p.mark(name);
    }
}

/// Records a measure `name` from the latest `start` mark to now.
pub fn measure_since(name: &str, start: &str) {
    if let Some(p) = performance() {
        let end = format!("{start}:end");
        let _ = p.mark(&end);
        let _ = p.measure_with_start_mark_and_end_mark(name, start, &end);
    }
}
