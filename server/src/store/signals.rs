//! How a process hears that others committed, and their presence.
//!
//! On PostgreSQL, every commit NOTIFYs `baton_commit` (with the node that
//! made it) and presence travels on `baton_presence`; one listening
//! connection per node hears both. A lost connection may have missed
//! notices, so reconnecting counts as a hint too. On SQLite, the commit
//! clock is polled. Either way a hint only says "read the store": the
//! commit sequence is the truth, and the watcher also reads it on a timer.

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// The channel every commit is announced on.
pub(super) const COMMIT_CHANNEL: &str = "baton_commit";
/// The channel presence travels on.
pub(super) const PRESENCE_CHANNEL: &str = "baton_presence";
/// How often SQLite's clock is read.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// Longest wait between attempts to reach PostgreSQL again.
const MOST_BACKOFF: Duration = Duration::from_secs(5);

/// The hints and presence of one store; its task stops when dropped.
pub(super) struct Signals {
    pub hints: watch::Receiver<u64>,
    pub presence: broadcast::Sender<String>,
    task: JoinHandle<()>,
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Signals {
    /// Listens on PostgreSQL at `url`, ignoring this `node`'s own commits.
    pub fn listen(url: String, node: String) -> Signals {
        let (hint, hints) = watch::channel(0);
        let (presence, _) = broadcast::channel(1024);
        let heard = presence.clone();
        let task = tokio::spawn(async move {
            let mut backoff = Duration::from_millis(100);
            loop {
                match PgListener::connect(&url).await {
                    Ok(mut listener) => {
                        if listener
                            .listen_all([COMMIT_CHANNEL, PRESENCE_CHANNEL])
                            .await
                            .is_ok()
                        {
                            backoff = Duration::from_millis(100);
                            // Whatever was said while nobody listened.
                            hint.send_modify(|n| *n += 1);
                            hear(&mut listener, &node, &hint, &heard).await;
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot listen to PostgreSQL; retrying");
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MOST_BACKOFF);
            }
        });
        Signals {
            hints,
            presence,
            task,
        }
    }

    /// Polls SQLite's commit clock.
    pub fn poll(pool: AnyPool) -> Signals {
        let (hint, hints) = watch::channel(0);
        let (presence, _) = broadcast::channel(1);
        let task = tokio::spawn(async move {
            let mut seen = None;
            let mut ticks = tokio::time::interval(POLL_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let clock: Result<i64, _> =
                    sqlx::query_scalar("SELECT seq FROM commit_clock WHERE id = 1")
                        .fetch_one(&pool)
                        .await;
                if let Ok(clock) = clock
                    && seen.replace(clock) != Some(clock)
                {
                    hint.send_modify(|n| *n += 1);
                }
            }
        });
        Signals {
            hints,
            presence,
            task,
        }
    }
}

/// Passes on what the listener hears until its connection fails.
async fn hear(
    listener: &mut PgListener,
    node: &str,
    hint: &watch::Sender<u64>,
    presence: &broadcast::Sender<String>,
) {
    let own = format!("{node} ");
    loop {
        match listener.try_recv().await {
            Ok(Some(notice)) if notice.channel() == PRESENCE_CHANNEL => {
                let _ = presence.send(notice.payload().to_owned());
            }
            Ok(Some(notice)) => {
                if !notice.payload().starts_with(&own) {
                    hint.send_modify(|n| *n += 1);
                }
            }
            // The connection dropped; the next call reconnects. Notices
            // may have been lost meanwhile.
            Ok(None) => hint.send_modify(|n| *n += 1),
            Err(err) => {
                tracing::warn!(error = %err, "lost PostgreSQL's notices; reconnecting");
                hint.send_modify(|n| *n += 1);
                return;
            }
        }
    }
}
