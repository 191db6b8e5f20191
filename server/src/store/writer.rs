//! Group commit: one task owns the write connection. Requests that queue up
//! while a transaction is being made durable share the next transaction and
//! its single fsync; each request sits in its own savepoint so one failing
//! request does not fail its neighbours. A request is answered only after
//! the commit is durable (`synchronous=FULL`).

use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};
use tokio::sync::{mpsc, oneshot};

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
        Write::Document {
            id,
            kind,
            chunk,
            snapshot,
            heads,
            after,
        } => {
            let id = id.to_string();
            sqlx::query(
                "INSERT INTO documents (id, kind) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&id)
            .bind(kind.as_str())
            .execute(&mut *c)
            .await?;
            let overtaken = match after {
                Some(after) => {
                    let last: i64 =
                        sqlx::query_scalar("SELECT last_seq FROM documents WHERE id = ?")
                            .bind(&id)
                            .fetch_one(&mut *c)
                            .await?;
                    u64::try_from(last).unwrap_or_default() != *after
                }
                None => false,
            };
            // A snapshot from a copy that missed another process's commit
            // would drop that commit with the chunks it replaces: it is
            // kept as one more chunk instead (a whole save loads as one).
            let (chunk, snapshot) = match snapshot {
                Some(snapshot) if overtaken => (snapshot, None),
                other => (chunk, other.as_ref()),
            };
            if let Some(snapshot) = snapshot {
                sqlx::query("DELETE FROM chunks WHERE document = ?")
                    .bind(&id)
                    .execute(&mut *c)
                    .await?;
                sqlx::query("UPDATE documents SET snapshot = ? WHERE id = ?")
                    .bind(snapshot)
                    .bind(&id)
                    .execute(&mut *c)
                    .await?;
            }
            let seq = sqlx::query("INSERT INTO chunks (document, data) VALUES (?, ?)")
                .bind(&id)
                .bind(chunk)
                .execute(&mut *c)
                .await?
                .last_insert_rowid();
            sqlx::query("UPDATE documents SET last_seq = ?, heads = ? WHERE id = ?")
                .bind(seq)
                .bind(heads.join(","))
                .bind(&id)
                .execute(&mut *c)
                .await?;
            let seq = u64::try_from(seq).unwrap_or_default();
            receipt.seqs.push(seq);
            if overtaken {
                receipt.overtaken.push(seq);
            }
        }
        Write::Conversation(row) => {
            sqlx::query(
                "INSERT INTO conversations (id, document, channel, subject, customer_name, \
                 customer_email, status, assignee, created_at, last_activity_at, preview, messages, seq, \
                 unassigned_since) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
                 assignee = excluded.assignee, last_activity_at = excluded.last_activity_at, \
                 preview = excluded.preview, messages = excluded.messages, seq = excluded.seq, \
                 unassigned_since = excluded.unassigned_since",
            )
            .bind(row.id.as_str())
            .bind(row.document.to_string())
            .bind(row.channel.as_str())
            .bind(&row.subject)
            .bind(&row.customer_name)
            .bind(&row.customer_email)
            .bind(row.status.as_str())
            .bind(row.assignee.as_ref().map(|a| a.as_str()))
            .bind(row.created_at)
            .bind(row.last_activity_at)
            .bind(&row.preview)
            .bind(row.messages)
            .bind(receipt.seqs.last().copied().unwrap_or_default() as i64)
            .bind(row.unassigned_since)
            .execute(&mut *c)
            .await?;
        }
        Write::Notification(n) => {
            // The stored count is the batch's count so far, whatever order
            // its commits came in: it is what everyone is shown.
            let count: i64 = sqlx::query_scalar(
                "INSERT INTO notifications (id, agent, conversation, document, kind, \
                 actor, subject, batch, count, at, read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (agent, batch) WHERE batch IS NOT NULL DO UPDATE SET \
                 count = notifications.count + excluded.count, at = excluded.at, read = 0 \
                 RETURNING count",
            )
            .bind(&n.id)
            .bind(n.agent.as_str())
            .bind(n.conversation.as_str())
            .bind(n.document.to_string())
            .bind(<&'static str>::from(n.kind))
            .bind(&n.actor)
            .bind(&n.subject)
            .bind(&n.batch)
            .bind(n.count)
            .bind(n.at)
            .bind(n.read)
            .fetch_one(&mut *c)
            .await?;
            receipt
                .counts
                .push((n.id.clone(), u32::try_from(count).unwrap_or(u32::MAX)));
        }
        Write::Reply(r) => {
            let seq = receipt.seqs.last().copied().unwrap_or(r.seq);
            sqlx::query(
                "INSERT INTO replies (message, seq, channel, conversation, author, body, at, \
                 customer_email) VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (conversation, message) DO NOTHING",
            )
            .bind(&r.message)
            .bind(seq as i64)
            .bind(r.channel.as_str())
            .bind(r.conversation.as_str())
            .bind(r.author.as_str())
            .bind(&r.body)
            .bind(r.at)
            .bind(&r.customer_email)
            .execute(&mut *c)
            .await?;
        }
        Write::Meta { key, value } => {
            sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(&mut *c)
                .await?;
        }
        Write::Agent(a) => {
            sqlx::query(
                "INSERT INTO agents (id, email, name, role, active, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(a.id.as_str())
            .bind(&a.email)
            .bind(&a.name)
            .bind(a.role.as_str())
            .bind(a.active)
            .bind(&a.password_hash)
            .bind(baton_shared::clock::now())
            .execute(&mut *c)
            .await
            .map_err(|e| conflict(e, &format!("an agent with email {}", a.email)))?;
        }
        Write::SetAgentActive { id, active } => {
            sqlx::query("UPDATE agents SET active = ? WHERE id = ?")
                .bind(active)
                .bind(id.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::UpdateAgent { id, name, role } => {
            sqlx::query("UPDATE agents SET name = ?, role = ? WHERE id = ?")
                .bind(name)
                .bind(role.as_str())
                .bind(id.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::Channel(ch) => {
            sqlx::query(
                "INSERT INTO channels (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, secret_hash = excluded.secret_hash",
            )
            .bind(ch.id.as_str())
            .bind(&ch.name)
            .bind(&ch.secret_hash)
            .bind(baton_shared::clock::now())
            .execute(&mut *c)
            .await?;
        }
        Write::Session {
            token_hash,
            agent,
            created_at,
            expires_at,
        } => {
            sqlx::query("INSERT INTO sessions (token_hash, agent, created_at, expires_at) VALUES (?, ?, ?, ?)")
                .bind(token_hash)
                .bind(agent.as_str())
                .bind(created_at)
                .bind(expires_at)
                .execute(&mut *c)
                .await?;
        }
        Write::DeleteSession { token_hash } => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
                .bind(token_hash)
                .execute(&mut *c)
                .await?;
        }
        Write::DeleteSessionsOf { agent } => {
            sqlx::query("DELETE FROM sessions WHERE agent = ?")
                .bind(agent.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::ApiToken {
            token_hash,
            agent,
            created_at,
            expires_at,
        } => {
            sqlx::query(
                "INSERT INTO api_tokens (token_hash, agent, created_at, expires_at) \
                 VALUES (?, ?, ?, ?)",
            )
            .bind(token_hash)
            .bind(agent.as_str())
            .bind(created_at)
            .bind(expires_at)
            .execute(&mut *c)
            .await?;
        }
        Write::RevokeApiToken { id } => {
            let done = sqlx::query(
                "UPDATE api_tokens SET revoked = 1 WHERE substr(token_hash, 1, 16) = ?",
            )
            .bind(id)
            .execute(&mut *c)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!("no API token {id}")));
            }
        }
        Write::OnlineStarted { id, agent, at } => {
            sqlx::query("INSERT INTO online_spans (id, agent, started, seen) VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(agent.as_str())
                .bind(at)
                .bind(at)
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO online_first (agent, at) VALUES (?, ?) ON CONFLICT (agent) DO NOTHING",
            )
            .bind(agent.as_str())
            .bind(at)
            .execute(&mut *c)
            .await?;
        }
        Write::OnlineSeen { ids, at } => {
            for id in ids {
                sqlx::query("UPDATE online_spans SET seen = ? WHERE id = ? AND ended IS NULL")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            }
        }
        Write::OnlineEnded { id, at } => {
            sqlx::query("UPDATE online_spans SET ended = ?, seen = ? WHERE id = ?")
                .bind(at)
                .bind(at)
                .bind(id)
                .execute(&mut *c)
                .await?;
        }
        Write::CloseStaleOnline { seen_before, grace } => {
            sqlx::query(
                "UPDATE online_spans SET ended = seen + ? WHERE ended IS NULL AND seen < ?",
            )
            .bind(grace)
            .bind(seen_before)
            .execute(&mut *c)
            .await?;
        }
        Write::PruneOnline { ended_before } => {
            sqlx::query("DELETE FROM online_spans WHERE ended IS NOT NULL AND ended < ?")
                .bind(ended_before)
                .execute(&mut *c)
                .await?;
        }
        Write::RevokeApiTokensOf { agent } => {
            sqlx::query("UPDATE api_tokens SET revoked = 1 WHERE agent = ?")
                .bind(agent.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::MarkNotificationsRead { agent, ids } => {
            for id in ids {
                sqlx::query("UPDATE notifications SET read = 1 WHERE agent = ? AND id = ?")
                    .bind(agent.as_str())
                    .bind(id)
                    .execute(&mut *c)
                    .await?;
            }
        }
        Write::WorkflowRun(run) => {
            sqlx::query(
                "INSERT INTO workflow_runs (key, workflow, workflow_name, conversation, document, \
                 event, outcome, run, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&run.key)
            .bind(run.workflow.as_str())
            .bind(&run.workflow_name)
            .bind(run.conversation.as_str())
            .bind(run.document.to_string())
            .bind(&run.event)
            .bind(&run.outcome)
            .bind(&run.run)
            .bind(run.at)
            .execute(&mut *c)
            .await
            .map_err(|e| conflict(e, &format!("workflow run {}", run.key)))?;
        }
        Write::UnassignedSince {
            conversation,
            since,
        } => {
            sqlx::query("UPDATE conversations SET unassigned_since = ? WHERE id = ?")
                .bind(since)
                .bind(conversation.as_str())
                .execute(&mut *c)
                .await?;
        }
        Write::WorkflowCursor { workflow, agent } => {
            sqlx::query(
                "INSERT INTO workflow_cursors (workflow, agent) VALUES (?, ?) \
                 ON CONFLICT (workflow) DO UPDATE SET agent = excluded.agent",
            )
            .bind(workflow.as_str())
            .bind(agent.as_str())
            .execute(&mut *c)
            .await?;
        }
        Write::BindActor { actor, principal } => {
            sqlx::query("INSERT INTO actors (actor, principal) VALUES (?, ?) ON CONFLICT (actor) DO NOTHING")
                .bind(actor)
                .bind(principal)
                .execute(&mut *c)
                .await?;
        }
    }
    Ok(())
}
