//! Group commit: one task owns the write connection. Requests that queue up
//! while a transaction is being made durable share the next transaction and
//! its single fsync; each request sits in its own savepoint so one failing
//! request does not fail its neighbours. A request is answered only after
//! the commit is durable (`synchronous=FULL`).

use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};
use tokio::sync::{mpsc, oneshot};

mod access;
mod documents;
mod notifications;
mod online;
mod team;
mod workflows;

use super::{Receipt, StoreError, Write};

/// Most requests in one transaction.
const MAX_GROUP: usize = 512;

pub(super) struct Request {
    pub writes: Vec<Write>,
    pub reply: oneshot::Sender<Result<Receipt, StoreError>>,
}

pub(super) fn spawn(mut conn: SqliteConnection) -> mpsc::Sender<Request> {
    let (tx, mut rx) = mpsc::channel::<Request>(4096);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(request) => group.push(request),
                    Err(_) => break,
                }
            }
            commit_group(&mut conn, group).await;
        }
        let _ = conn.close().await;
    });
    tx
}

async fn commit_group(conn: &mut SqliteConnection, group: Vec<Request>) {
    let mut results = Vec::with_capacity(group.len());
    let outcome = async {
        let mut tx = conn.begin().await?;
        for request in &group {
            results.push(apply_one(&mut tx, &request.writes).await);
        }
        tx.commit().await
    }
    .await;
    match outcome {
        Ok(()) => {
            for (request, result) in group.into_iter().zip(results) {
                let _ = request.reply.send(result);
            }
        }
        Err(err) => {
            tracing::error!(error = %err, "commit failed");
            let message = err.to_string();
            for request in group {
                let _ = request
                    .reply
                    .send(Err(StoreError::Database(sqlx::Error::Protocol(
                        message.clone(),
                    ))));
            }
        }
    }
}

async fn apply_one(
    tx: &mut Transaction<'_, Sqlite>,
    writes: &[Write],
) -> Result<Receipt, StoreError> {
    #[cfg(debug_assertions)]
    if let Some(err) = super::fault::injected(writes) {
        return Err(err);
    }
    sqlx::query("SAVEPOINT request").execute(&mut **tx).await?;
    let mut receipt = Receipt::default();
    let mut result = Ok(());
    for write in writes {
        result = apply(tx, write, &mut receipt).await;
        if result.is_err() {
            break;
        }
    }
    match result {
        Ok(()) => {
            sqlx::query("RELEASE request").execute(&mut **tx).await?;
            Ok(receipt)
        }
        Err(err) => {
            sqlx::query("ROLLBACK TO request")
                .execute(&mut **tx)
                .await?;
            sqlx::query("RELEASE request").execute(&mut **tx).await?;
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
    tx: &mut Transaction<'_, Sqlite>,
    write: &Write,
    receipt: &mut Receipt,
) -> Result<(), StoreError> {
    let c = &mut **tx;
    match write {
        Write::Document { .. } | Write::Conversation(_) | Write::Reply(_) => {
            documents::apply(c, write, receipt).await
        }
        Write::Notification(_) | Write::MarkNotificationsRead { .. } => {
            notifications::apply(c, write, receipt).await
        }
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
