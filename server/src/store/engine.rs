//! Which database a store runs on, and the little that differs between
//! them: how to connect, which migrations apply, how big a group commit may
//! grow. Everything else is the same SQL on both.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Connection};

use super::{Result, StoreError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// The database a store runs on.
#[derive(Clone)]
pub enum Engine {
    /// A SQLite file: one machine, any number of processes on it.
    Sqlite { path: PathBuf },
    /// A PostgreSQL database: any number of nodes.
    Postgres { url: String },
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Engine {
    /// `baton.db` in the data directory, which is made if missing.
    pub fn sqlite_in(dir: &Path) -> Result<Engine> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Open(format!(
                "cannot create the data directory {}: {e}",
                dir.display()
            ))
        })?;
        Ok(Engine::Sqlite {
            path: dir.join("baton.db"),
        })
    }

    /// The engine a `--database-url` names.
    pub fn from_url(url: &str) -> Result<Engine> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            AnyConnectOptions::from_str(url).map_err(|e| {
                StoreError::Open(format!(
                    "--database-url {}: not a valid PostgreSQL URL: {e}",
                    redact(url)
                ))
            })?;
            return Ok(Engine::Postgres {
                url: url.to_owned(),
            });
        }
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(|e| {
                StoreError::Open(format!(
                    "--database-url {url:?}: not a valid sqlite: URL: {e}"
                ))
            })?;
            return Ok(Engine::Sqlite {
                path: options.get_filename().to_path_buf(),
            });
        }
        let scheme = url.split(':').next().unwrap_or(url);
        Err(StoreError::Open(format!(
            "--database-url: {scheme:?} databases are not supported; use \
             postgres://user@host/database or sqlite:///path/to/baton.db, or leave it \
             out to use --data"
        )))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Engine::Postgres { .. })
    }

    /// `sqlite` or `postgres`.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite { .. } => "sqlite",
            Engine::Postgres { .. } => "postgres",
        }
    }

    /// The database, named for people: a path, or the URL without its
    /// password.
    pub fn describe(&self) -> String {
        match self {
            Engine::Sqlite { path } => format!("sqlite:{}", path.display()),
            Engine::Postgres { url } => redact(url),
        }
    }

    /// Most requests in one group commit. Each request is a savepoint,
    /// which PostgreSQL runs as a subtransaction: past 64 in one
    /// transaction every snapshot in the cluster gets slower.
    pub(super) fn max_group(&self) -> usize {
        match self {
            Engine::Sqlite { .. } => 512,
            Engine::Postgres { .. } => 32,
        }
    }

    fn options(&self) -> Result<AnyConnectOptions> {
        let url = match self {
            Engine::Sqlite { path } => SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .to_url_lossy(),
            Engine::Postgres { url } => url
                .parse()
                .map_err(|e| StoreError::Open(format!("{}: not a valid URL: {e}", redact(url))))?,
        };
        Ok(AnyConnectOptions::from_url(&url)?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2)))
    }

    /// One connection, set up for Baton.
    pub(super) async fn connect(&self) -> Result<AnyConnection> {
        sqlx::any::install_default_drivers();
        let mut conn = AnyConnection::connect_with(&self.options()?).await?;
        self.prepare(&mut conn).await?;
        Ok(conn)
    }

    /// A pool of `size` connections for reading.
    pub(super) async fn pool(&self, size: u32) -> Result<AnyPool> {
        sqlx::any::install_default_drivers();
        let engine = self.clone();
        Ok(AnyPoolOptions::new()
            .max_connections(size)
            .after_connect(move |conn, _| {
                let engine = engine.clone();
                Box::pin(async move {
                    engine.prepare(conn).await.map_err(|e| match e {
                        StoreError::Database(e) => e,
                        other => sqlx::Error::Protocol(other.to_string()),
                    })
                })
            })
            .connect_with(self.options()?)
            .await?)
    }

    /// Per-connection settings: SQLite's journal and durability (a commit
    /// is answered once it is on disk), PostgreSQL's guard against a node
    /// that stops half-way through a transaction.
    async fn prepare(&self, conn: &mut AnyConnection) -> Result<()> {
        let settings: &[&str] = match self {
            Engine::Sqlite { .. } => &[
                "PRAGMA journal_mode = WAL",
                "PRAGMA synchronous = FULL",
                "PRAGMA busy_timeout = 10000",
                "PRAGMA foreign_keys = ON",
            ],
            Engine::Postgres { .. } => &[
                "SET idle_in_transaction_session_timeout = '30s'",
                "SET application_name = 'baton'",
            ],
        };
        for setting in settings {
            sqlx::query(setting).execute(&mut *conn).await?;
        }
        Ok(())
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Engine::Sqlite { .. } => &SQLITE_MIGRATIONS,
            Engine::Postgres { .. } => &POSTGRES_MIGRATIONS,
        }
    }

    /// Brings the schema up to date, or refuses a schema newer than this
    /// Baton (a newer version ran on this database: going on could lose
    /// what it keeps).
    pub(super) async fn migrate(&self, conn: &mut AnyConnection) -> Result<()> {
        let migrator = self.migrator();
        match migrator.run(conn).await {
            Ok(()) => Ok(()),
            Err(MigrateError::VersionMissing(version)) => {
                let known = migrator.iter().map(|m| m.version).max().unwrap_or_default();
                Err(StoreError::Open(format!(
                    "{}: its schema is at version {version} or later, newer than this \
                     Baton knows ({known}); run the Baton that upgraded it, or a newer one",
                    self.describe()
                )))
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The newest schema version this Baton knows.
    pub fn schema_version(&self) -> i64 {
        self.migrator()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or_default()
    }

    /// The file beside SQLite's database where lock `name` lives; `None`
    /// on PostgreSQL (it has advisory locks).
    pub(super) fn lock_file(&self, name: &str) -> Option<PathBuf> {
        match self {
            Engine::Sqlite { path } => {
                let mut file = path.clone().into_os_string();
                file.push(format!(".{name}.lock"));
                Some(PathBuf::from(file))
            }
            Engine::Postgres { .. } => None,
        }
    }

    /// The URL, for PostgreSQL's listener.
    pub(super) fn postgres_url(&self) -> Option<&str> {
        match self {
            Engine::Postgres { url } => Some(url),
            Engine::Sqlite { .. } => None,
        }
    }
}

/// The URL with any password replaced, for messages and logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "(an unreadable URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_never_shows_in_what_names_the_database() {
        let engine = Engine::from_url("postgres://baton:s3cret@db.internal:5432/baton").unwrap();
        let named = format!("{} {engine:?}", engine.describe());
        assert!(!named.contains("s3cret"), "{named}");
        assert!(named.contains("db.internal"), "{named}");
    }

    #[test]
    fn urls_pick_the_engine_and_anything_else_is_refused_clearly() {
        assert!(Engine::from_url("postgresql://h/d").unwrap().is_postgres());
        assert_eq!(
            Engine::from_url("sqlite:///tmp/x/baton.db").unwrap().name(),
            "sqlite"
        );
        let err = Engine::from_url("mysql://h/d").unwrap_err().to_string();
        assert!(
            err.contains("\"mysql\"") && err.contains("postgres://"),
            "{err}"
        );
    }
}
