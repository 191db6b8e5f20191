//! Injected commit failures, for tests of what a failed commit leaves
//! behind. Debug builds only: `BATON_FAULT_FAIL_COMMITS=reply:1` fails the
//! next request holding an agent's reply, `notification:2` the next two
//! holding a notification, `assignment:1` the next telling of an assignment.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{StoreError, Write};

static ARMED: Mutex<Option<(String, usize)>> = Mutex::new(None);
static READ: AtomicUsize = AtomicUsize::new(0);

fn armed() -> std::sync::MutexGuard<'static, Option<(String, usize)>> {
    if READ.swap(1, Ordering::SeqCst) == 0 {
        let spec = std::env::var("BATON_FAULT_FAIL_COMMITS").ok();
        let parsed = spec.as_deref().and_then(|spec| {
            let (kind, count) = spec.split_once(':')?;
            Some((kind.to_owned(), count.parse().ok()?))
        });
        *ARMED.lock().unwrap_or_else(|e| e.into_inner()) = parsed;
    }
    ARMED.lock().unwrap_or_else(|e| e.into_inner())
}

/// The failure to answer `writes` with, if one is due.
pub(super) fn injected(writes: &[Write]) -> Option<StoreError> {
    let mut armed = armed();
    let (kind, left) = armed.as_mut()?;
    let hit = writes.iter().any(|w| match (kind.as_str(), w) {
        ("reply", Write::Reply(_)) => true,
        ("notification", Write::Notification(_)) => true,
        ("assignment", Write::Notification(n)) => {
            n.kind == baton_shared::notify::NoticeKind::AssignedToYou
        }
        _ => false,
    });
    if !hit || *left == 0 {
        return None;
    }
    *left -= 1;
    Some(StoreError::Database(sqlx::Error::Protocol(
        "injected commit failure (BATON_FAULT_FAIL_COMMITS)".to_owned(),
    )))
}

/// How long to wait before each COMMIT (`BATON_FAULT_COMMIT_DELAY_MS`):
/// widens the window in which two nodes' writes to one document collide.
pub(super) fn commit_delay() -> Option<std::time::Duration> {
    static DELAY: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let ms = (*DELAY.get_or_init(|| {
        std::env::var("BATON_FAULT_COMMIT_DELAY_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
    }))?;
    Some(std::time::Duration::from_millis(ms))
}
