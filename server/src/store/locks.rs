//! Locks shared by every process on one store: who seeds a new database,
//! who sweeps. PostgreSQL's advisory locks, held by a connection of their
//! own (the database frees them the moment that node dies); on SQLite, a
//! file lock beside the database (the kernel frees it with the process).

use std::fs::{File, OpenOptions};

use sqlx::AnyConnection;
use sqlx::Connection;

use super::engine::Engine;
use super::{Result, StoreError};

/// Whether taking a lock waits for whoever holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait until it is free.
    Block,
    /// Give up at once if it is held.
    Try,
}

/// A held lock; dropping it releases it.
pub struct StoreLock {
    held: Held,
}

enum Held {
    Postgres(AnyConnection),
    File(#[allow(dead_code)] File),
}

impl StoreLock {
    /// Whether the lock is still held: a PostgreSQL lock ends with its
    /// connection (a restart of the database, a network cut).
    pub async fn still_held(&mut self) -> bool {
        match &mut self.held {
            Held::Postgres(conn) => conn.ping().await.is_ok(),
            Held::File(_) => true,
        }
    }

    /// Releases the lock now.
    pub async fn release(self) {
        if let Held::Postgres(conn) = self.held {
            let _ = conn.close().await;
        }
    }
}

pub(super) async fn take(engine: &Engine, name: &str, wait: Wait) -> Result<Option<StoreLock>> {
    match engine.lock_file(name) {
        Some(path) => {
            let taken = tokio::task::spawn_blocking(move || -> std::io::Result<Option<File>> {
                let file = OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)?;
                match wait {
                    Wait::Block => file.lock().map(|()| Some(file)),
                    Wait::Try => match file.try_lock() {
                        Ok(()) => Ok(Some(file)),
                        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                        Err(std::fs::TryLockError::Error(e)) => Err(e),
                    },
                }
            })
            .await
            .map_err(|e| StoreError::Open(format!("lock {name}: {e}")))?
            .map_err(|e| StoreError::Open(format!("lock {name}: {e}")))?;
            Ok(taken.map(|file| StoreLock {
                held: Held::File(file),
            }))
        }
        None => {
            let mut conn = engine.connect().await?;
            let key = format!("baton:{name}");
            let got = match wait {
                Wait::Block => {
                    sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
                        .bind(&key)
                        .execute(&mut conn)
                        .await?;
                    true
                }
                Wait::Try => {
                    sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                        .bind(&key)
                        .fetch_one(&mut conn)
                        .await?
                }
            };
            if !got {
                let _ = conn.close().await;
                return Ok(None);
            }
            Ok(Some(StoreLock {
                held: Held::Postgres(conn),
            }))
        }
    }
}
