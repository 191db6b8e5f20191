//! [`SqlStore`]: Baton's store on SQLite or PostgreSQL. One writer task per
//! process (group commit), a pool of readers, and the signals that tell it
//! of other processes' commits.

use std::path::Path;

use async_trait::async_trait;
use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::engine::Engine;
use super::locks::{self, StoreLock, Wait};
use super::signals::{PRESENCE_CHANNEL, Signals};
use super::writer::{self, Request};
use super::{Receipt, Result, Store, StoreError, Write};

/// Readers per process.
const READERS: u32 = 8;

/// Baton's store.
pub struct SqlStore {
    engine: Engine,
    pub(super) read: AnyPool,
    writer: mpsc::Sender<Request>,
    node: String,
    signals: Signals,
}

impl SqlStore {
    /// Opens the database, bringing its schema up to date.
    pub async fn open(engine: Engine) -> Result<Self> {
        Self::open_as(engine, writer::Options::default()).await
    }

    pub(super) async fn open_as(engine: Engine, options: writer::Options) -> Result<Self> {
        let mut write = engine.connect().await.map_err(|e| match e {
            StoreError::Database(e) => StoreError::Open(format!(
                "cannot open the database {}: {e}",
                engine.describe()
            )),
            other => other,
        })?;
        // Processes starting together take turns: PostgreSQL's migrator
        // locks by itself, SQLite's does not.
        let turn = match engine.lock_file("migrate") {
            Some(_) => locks::take(&engine, "migrate", Wait::Block).await?,
            None => None,
        };
        engine.migrate(&mut write).await?;
        if let Some(turn) = turn {
            turn.release().await;
        }
        let read = engine.pool(READERS).await?;
        let node = node_name();
        let signals = match engine.postgres_url() {
            Some(url) => Signals::listen(url.to_owned(), node.clone()),
            None => Signals::poll(read.clone()),
        };
        let writer = writer::spawn(engine.clone(), write, node.clone(), options);
        Ok(SqlStore {
            engine,
            read,
            writer,
            node,
            signals,
        })
    }

    /// Test only (debug builds): a store whose writer takes sequences the
    /// naive way, as a database sequence would — the negative control of
    /// the test that no reader ever steps over a sequence.
    #[cfg(debug_assertions)]
    #[doc(hidden)]
    pub async fn open_naive(engine: Engine) -> Result<Self> {
        Self::open_as(
            engine,
            writer::Options {
                naive_sequence: true,
            },
        )
        .await
    }

    /// Opens (creating if needed) `baton.db` in the data directory.
    pub async fn open_dir(dir: &Path) -> Result<Self> {
        Self::open(Engine::sqlite_in(dir)?).await
    }

    /// Opens a `sqlite:` or `postgres:` URL.
    pub async fn open_url(url: &str) -> Result<Self> {
        Self::open(Engine::from_url(url)?).await
    }

    /// The database this store runs on.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// A read transaction in which every statement sees one snapshot.
    pub(super) async fn snapshot(&self) -> Result<Transaction<'static, Any>> {
        let mut tx = self.read.begin().await?;
        if self.engine.is_postgres() {
            // SQLite's read transaction is one snapshot already.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }
}

/// A name for this process in the outbox: unique enough that two nodes
/// never share one.
fn node_name() -> String {
    let mut bytes = [0u8; 6];
    // Without randomness the process id still tells nodes on one machine apart.
    let _ = getrandom::fill(&mut bytes);
    format!("{}-{}", std::process::id(), hex::encode(bytes))
}

#[async_trait]
impl Store for SqlStore {
    async fn commit(&self, writes: Vec<Write>) -> Result<Receipt> {
        let (reply, answer) = oneshot::channel();
        self.writer
            .send(Request { writes, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    fn node(&self) -> &str {
        &self.node
    }

    fn engine_name(&self) -> &'static str {
        self.engine.name()
    }

    fn hints(&self) -> watch::Receiver<u64> {
        self.signals.hints.clone()
    }

    async fn send_presence(&self, payload: &str) -> Result<()> {
        if self.engine.is_postgres() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(PRESENCE_CHANNEL)
                .bind(payload)
                .execute(&self.read)
                .await?;
        }
        Ok(())
    }

    fn presence(&self) -> broadcast::Receiver<String> {
        self.signals.presence.subscribe()
    }

    async fn lock(&self, name: &str, wait: Wait) -> Result<Option<StoreLock>> {
        locks::take(&self.engine, name, wait).await
    }
}
