//! Group commit: one task per process owns the write connection. Requests
//! that queue up while a transaction is being made durable share the next
//! transaction and its single fsync; each request sits in its own savepoint
//! so one failing request does not fail its neighbours. A request is
//! answered only once its commit is durable.
//!
//! Every transaction first locks the commit clock's one row and hands out
//! sequences from it (chunks, outbox rows), writing the last back just
//! before COMMIT. Writers on every process wait for that lock, so
//! sequences are visible in the order they were handed out, with no gap a
//! reader could step over. On PostgreSQL the same transaction NOTIFYs the
//! other nodes; the notice is delivered only if it commits.

use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::{Any, Connection, Transaction};
use tokio::sync::{mpsc, oneshot};

mod access;
mod documents;
mod notifications;
mod online;
mod outbox;
mod team;
mod workflows;

use super::engine::Engine;
use super::signals::COMMIT_CHANNEL;
use super::{Receipt, StoreError, Write};

/// Longest wait between attempts to reach the database again.
const MOST_BACKOFF: Duration = Duration::from_secs(5);

pub(super) struct Request {
    pub writes: Vec<Write>,
    pub reply: oneshot::Sender<Result<Receipt, StoreError>>,
}

/// How a writer hands out sequences.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Options {
    /// Test only: take sequences the naive way, from a counter committed
    /// at once (as a database sequence would be), without holding the
    /// clock. Readers can then step over a sequence still being written;
    /// the store's conformance test proves it notices.
    pub naive_sequence: bool,
}

/// What one process writes as, and where.
struct Writer {
    engine: Engine,
    max_group: usize,
    node: String,
    options: Options,
    conn: Option<AnyConnection>,
    /// For [`Options::naive_sequence`]: the counter's own connection.
    naive: Option<AnyConnection>,
}

pub(super) fn spawn(
    engine: Engine,
    conn: AnyConnection,
    node: String,
    options: Options,
) -> mpsc::Sender<Request> {
    let (tx, mut rx) = mpsc::channel::<Request>(4096);
    let mut writer = Writer {
        max_group: engine.max_group(),
        engine,
        node,
        options,
        conn: Some(conn),
        naive: None,
    };
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(50);
        while let Some(first) = rx.recv().await {
            let mut group = vec![first];
            while group.len() < writer.max_group {
                match rx.try_recv() {
                    Ok(request) => group.push(request),
                    Err(_) => break,
                }
            }
            if writer.commit_group(group).await {
                backoff = Duration::from_millis(50);
            } else {
                // The database is unreachable: what queued meanwhile is
                // answered with errors rather than kept waiting.
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MOST_BACKOFF);
            }
        }
        if let Some(conn) = writer.conn.take() {
            let _ = conn.close().await;
        }
    });
    tx
}

impl Writer {
    /// Commits one group and answers its requests; false when the
    /// database could not be reached.
    async fn commit_group(&mut self, group: Vec<Request>) -> bool {
        if self.conn.is_none() {
            match self.engine.connect().await {
                Ok(conn) => self.conn = Some(conn),
                Err(err) => {
                    tracing::warn!(error = %err, "the database is unreachable");
                    answer_all(group, &err.to_string());
                    return false;
                }
            }
        }
        let mut results = Vec::with_capacity(group.len());
        let outcome = self.transaction(&group, &mut results).await;
        match outcome {
            Ok(()) => {
                for (request, result) in group.into_iter().zip(results) {
                    let _ = request.reply.send(result);
                }
                true
            }
            Err(err) => {
                tracing::error!(error = %err, "commit failed");
                answer_all(group, &err.to_string());
                // A connection lost mid-commit is replaced before the next.
                let alive = match self.conn.as_mut() {
                    Some(conn) => conn.ping().await.is_ok(),
                    None => false,
                };
                if !alive {
                    self.conn = None;
                    self.naive = None;
                }
                alive
            }
        }
    }

    async fn transaction(
        &mut self,
        group: &[Request],
        results: &mut Vec<Result<Receipt, StoreError>>,
    ) -> Result<(), StoreError> {
        if self.options.naive_sequence && self.naive.is_none() {
            self.naive = Some(self.engine.connect().await?);
        }
        let notify = self.engine.is_postgres();
        let Writer {
            conn, naive, node, ..
        } = self;
        let conn = conn.as_mut().ok_or(StoreError::Closed)?;
        let mut tx = conn.begin().await?;
        let mut clock = Clock::start(&mut tx, naive.as_mut()).await?;
        for request in group {
            results.push(apply_one(&mut tx, &request.writes, &mut clock, node).await);
        }
        clock.finish(&mut tx, node, notify).await?;
        #[cfg(debug_assertions)]
        if let Some(delay) = super::fault::commit_delay() {
            tokio::time::sleep(delay).await;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn answer_all(group: Vec<Request>, message: &str) {
    for request in group {
        let _ = request
            .reply
            .send(Err(StoreError::Database(sqlx::Error::Protocol(
                message.to_owned(),
            ))));
    }
}

/// The sequences of one transaction.
pub(super) struct Clock<'n> {
    base: i64,
    next: i64,
    naive: Option<&'n mut AnyConnection>,
}

impl<'n> Clock<'n> {
    /// Locks the clock (the transaction's first statement, so no writer
    /// ever waits for it while holding anything else).
    async fn start(
        tx: &mut Transaction<'_, Any>,
        naive: Option<&'n mut AnyConnection>,
    ) -> Result<Clock<'n>, StoreError> {
        let base: i64 = if naive.is_some() {
            0
        } else {
            sqlx::query_scalar("UPDATE commit_clock SET seq = seq WHERE id = 1 RETURNING seq")
                .fetch_one(&mut **tx)
                .await?
        };
        Ok(Clock {
            base,
            next: base,
            naive,
        })
    }

    /// The next sequence.
    pub async fn take(&mut self) -> Result<i64, StoreError> {
        if let Some(counter) = self.naive.as_mut() {
            return Ok(sqlx::query_scalar(
                "UPDATE commit_clock SET seq = seq + 1 WHERE id = 1 RETURNING seq",
            )
            .fetch_one(&mut **counter)
            .await?);
        }
        self.next += 1;
        Ok(self.next)
    }

    /// Writes the clock back and announces the commit.
    async fn finish(
        self,
        tx: &mut Transaction<'_, Any>,
        node: &str,
        notify: bool,
    ) -> Result<(), StoreError> {
        if self.naive.is_some() || self.next == self.base {
            return Ok(());
        }
        sqlx::query("UPDATE commit_clock SET seq = $1 WHERE id = 1")
            .bind(self.next)
            .execute(&mut **tx)
            .await?;
        if notify {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(COMMIT_CHANNEL)
                .bind(format!("{node} {}", self.next))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}

async fn apply_one(
    tx: &mut Transaction<'_, Any>,
    writes: &[Write],
    clock: &mut Clock<'_>,
    node: &str,
) -> Result<Receipt, StoreError> {
    #[cfg(debug_assertions)]
    if let Some(err) = super::fault::injected(writes) {
        return Err(err);
    }
    sqlx::query("SAVEPOINT request").execute(&mut **tx).await?;
    let mark = clock.next;
    let mut receipt = Receipt::default();
    let mut result = Ok(());
    for write in writes {
        result = apply(tx, write, &mut receipt, clock, node).await;
        if result.is_err() {
            break;
        }
    }
    match result {
        Ok(()) => {
            sqlx::query("RELEASE SAVEPOINT request")
                .execute(&mut **tx)
                .await?;
            Ok(receipt)
        }
        Err(err) => {
            sqlx::query("ROLLBACK TO SAVEPOINT request")
                .execute(&mut **tx)
                .await?;
            sqlx::query("RELEASE SAVEPOINT request")
                .execute(&mut **tx)
                .await?;
            // The sequences it took are handed out again: no gap.
            clock.next = mark;
            Err(err)
        }
    }
}

fn conflict(err: sqlx::Error, what: &str) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(format!("{what} already exists"))
        }
        _ => StoreError::Database(err),
    }
}

async fn apply(
    c: &mut AnyConnection,
    write: &Write,
    receipt: &mut Receipt,
    clock: &mut Clock<'_>,
    node: &str,
) -> Result<(), StoreError> {
    match write {
        Write::Document { .. } | Write::Conversation(_) | Write::Reply(_) => {
            documents::apply(c, write, receipt, clock).await
        }
        Write::Notification(_)
        | Write::MarkNotificationsRead { .. }
        | Write::Broadcast(_)
        | Write::PruneOutbox { .. } => notifications::apply(c, write, receipt, clock, node).await,
        Write::WorkflowRun(_) | Write::UnassignedSince { .. } | Write::WorkflowCursor { .. } => {
            workflows::apply(c, write).await
        }
        Write::OnlineStarted { .. }
        | Write::OnlineSeen { .. }
        | Write::OnlineEnded { .. }
        | Write::CloseStaleOnline { .. }
        | Write::PruneOnline { .. } => online::apply(c, write).await,
        Write::Agent(_)
        | Write::SetAgentActive { .. }
        | Write::UpdateAgent { .. }
        | Write::Channel(_) => team::apply(c, write).await,
        _ => access::apply(c, write).await,
    }
}
