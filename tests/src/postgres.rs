//! Which database the suites run on, and a throwaway PostgreSQL for them.
//!
//! `BATON_TEST_BACKEND=postgres` runs every suite on PostgreSQL: each data
//! directory a test makes gets a database of its own, named after it, and
//! every `baton` the harness runs for that directory is given its URL (so
//! two servers started on one directory are two nodes on one database).
//! The cluster is `BATON_TEST_POSTGRES` (a maintenance URL), or one this
//! test process starts under `/tmp` from Debian's server binaries, with a
//! watchdog that stops and removes it when the process is gone. It never
//! skips: without PostgreSQL the tests fail and say what is missing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use anyhow::{Context, bail};
use sqlx::Connection;
use tokio::sync::OnceCell;

/// The database engine the suites run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `BATON_TEST_BACKEND`: `sqlite` (the default) or `postgres`.
pub fn backend() -> Backend {
    match std::env::var("BATON_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// The arguments that point `baton` at the database of `data`: none on
/// SQLite (`--data` is enough), `--database-url` on PostgreSQL.
pub async fn database_args(data: &Path) -> anyhow::Result<Vec<String>> {
    match backend() {
        Backend::Sqlite => Ok(Vec::new()),
        Backend::Postgres => Ok(vec!["--database-url".to_owned(), database_for(data).await?]),
    }
}

/// The URL of the PostgreSQL database of `data`, made on first use.
pub async fn database_for(data: &Path) -> anyhow::Result<String> {
    static MADE: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    // One at a time: servers started together on one directory share it.
    static MAKING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _making = MAKING.lock().await;
    if let Some(url) = MADE
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_default()
        .get(data)
    {
        return Ok(url.clone());
    }
    let server = cluster().await?;
    let name = database_name(data);
    let mut conn = sqlx::PgConnection::connect(&server.url("postgres"))
        .await
        .context("cannot reach the test PostgreSQL")?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_optional(&mut conn)
        .await?;
    if exists.is_none() {
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .execute(&mut conn)
            .await
            .with_context(|| format!("cannot create the test database {name}"))?;
    }
    let url = server.url(&name);
    MADE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_default()
        .insert(data.to_owned(), url.clone());
    Ok(url)
}

/// A database name for a data directory: short, unique per path.
fn database_name(data: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data.hash(&mut hasher);
    std::process::id().hash(&mut hasher);
    format!("t_{:016x}", hasher.finish())
}

/// A PostgreSQL cluster: where to reach it.
pub struct Cluster {
    /// `postgres://user@host/` with the socket as query, without a database.
    base: String,
    query: String,
}

impl Cluster {
    /// The URL of `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("{}{database}{}", self.base, self.query)
    }
}

/// The cluster the tests use (started once per test process if needed).
pub async fn cluster() -> anyhow::Result<&'static Cluster> {
    static CLUSTER: OnceCell<Cluster> = OnceCell::const_new();
    CLUSTER
        .get_or_try_init(|| async {
            match std::env::var("BATON_TEST_POSTGRES") {
                Ok(url) => split_url(&url),
                Err(_) => {
                    let started = Started::with(Settings::default()).await?;
                    Ok(started.cluster())
                }
            }
        })
        .await
}

/// Splits a maintenance URL into what comes before and after its database.
fn split_url(url: &str) -> anyhow::Result<Cluster> {
    let (before_query, query) = match url.find('?') {
        Some(at) => (&url[..at], &url[at..]),
        None => (url, ""),
    };
    let slash = before_query
        .rfind('/')
        .filter(|at| *at > "postgres://".len())
        .with_context(|| format!("BATON_TEST_POSTGRES {url:?} names no database"))?;
    Ok(Cluster {
        base: before_query[..=slash].to_owned(),
        query: query.to_owned(),
    })
}

/// The newest PostgreSQL server binaries on the machine.
pub fn server_binaries() -> anyhow::Result<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).context(
        "PostgreSQL's server binaries are missing (/usr/lib/postgresql/*/bin/initdb): \
         install Debian's `postgresql` package, or set BATON_TEST_POSTGRES",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root
/// (initdb and the server refuse to run as root), on `cores` if given.
fn pg_command(bin: &Path, tool: &str, root: bool, cores: Option<&str>) -> Command {
    let mut line: Vec<std::ffi::OsString> = Vec::new();
    if let Some(cores) = cores {
        line.extend(["taskset".into(), "-c".into(), cores.into()]);
    }
    if root {
        line.extend([
            "runuser".into(),
            "-u".into(),
            "postgres".into(),
            "--".into(),
        ]);
    }
    line.push(bin.join(tool).into());
    let mut command = Command::new(&line[0]);
    command.args(&line[1..]);
    command
}

/// How a cluster this process starts runs.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// fsync, synchronous commit and full-page writes on, as PostgreSQL
    /// ships (benchmarks); off by default, for tests, which kill Baton
    /// nodes, never PostgreSQL.
    pub durable: bool,
    /// The cores its processes may run on (`taskset -c`, e.g. `"0"`); any if `None`.
    pub cores: Option<String>,
}

impl Settings {
    /// The server options `pg_ctl` passes on, with the socket in `dir`.
    fn server_options(&self, dir: &Path) -> String {
        let durability = if self.durable {
            "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
        } else {
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        format!(
            "-c listen_addresses='' -k {} -p 5432 -c max_connections=400 \
             -c shared_buffers=64MB {durability}",
            dir.display()
        )
    }
}

/// A PostgreSQL cluster this process started (and its watchdog removes):
/// the tests' shared one, one a test keeps to itself to restart, or a
/// benchmark's.
#[derive(Debug, Clone)]
pub struct Started {
    bin: PathBuf,
    dir: PathBuf,
    root: bool,
    settings: Settings,
}

impl Started {
    fn start(settings: Settings) -> anyhow::Result<Started> {
        let bin = server_binaries()?;
        let root = is_root();
        // Under /tmp: the postgres user must reach every parent directory.
        let dir = tempfile::Builder::new()
            .prefix("baton-pg.")
            .tempdir_in("/tmp")?
            .keep();
        if root {
            let owned = Command::new("chown")
                .args(["postgres:"])
                .arg(&dir)
                .status()?;
            anyhow::ensure!(owned.success(), "cannot give {} to postgres", dir.display());
        }
        let init = pg_command(&bin, "initdb", root, None)
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-U", "baton", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .output()
            .context("cannot run initdb")?;
        if !init.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&init.stderr));
        }
        let started = Started {
            bin,
            dir,
            root,
            settings,
        };
        started.pg_ctl(&["start"])?;
        watch_over(&started.bin, &started.dir, root)?;
        Ok(started)
    }

    /// Runs `pg_ctl <action>` on this cluster, with its settings.
    fn pg_ctl(&self, action: &[&str]) -> anyhow::Result<()> {
        let options = self.settings.server_options(&self.dir);
        let log = self.dir.join("postgres.log");
        let cores = self.settings.cores.as_deref();
        let done = pg_command(&self.bin, "pg_ctl", self.root, cores)
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-m", "fast", "-o", &options])
            .args(action)
            .stdout(Stdio::null())
            .output()
            .context("cannot run pg_ctl")?;
        if !done.status.success() {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            bail!("pg_ctl {action:?} failed: {log}");
        }
        Ok(())
    }

    fn cluster(&self) -> Cluster {
        Cluster {
            base: "postgres://baton@localhost/".to_owned(),
            query: format!("?host={}&port=5432", self.dir.display()),
        }
    }

    /// A cluster of the test's own (e.g. to restart it under load).
    pub async fn private() -> anyhow::Result<Started> {
        Started::with(Settings::default()).await
    }

    /// A cluster of this process's own, run as `settings` say.
    pub async fn with(settings: Settings) -> anyhow::Result<Started> {
        tokio::task::spawn_blocking(move || Started::start(settings)).await?
    }

    /// The postmaster's process id (the first line of `postmaster.pid`);
    /// every other process of the cluster is its child.
    pub fn postmaster_pid(&self) -> anyhow::Result<u32> {
        let path = self.dir.join("data").join("postmaster.pid");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        text.lines()
            .next()
            .and_then(|line| line.trim().parse().ok())
            .with_context(|| format!("{} names no process", path.display()))
    }

    /// A new database on this cluster; its URL.
    pub async fn database(&self, name: &str) -> anyhow::Result<String> {
        let cluster = self.cluster();
        let mut conn = sqlx::PgConnection::connect(&cluster.url("postgres")).await?;
        sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .execute(&mut conn)
            .await?;
        Ok(cluster.url(name))
    }

    /// Stops PostgreSQL (fast: open connections are cut) and starts it again.
    pub async fn restart(&self, down_for: std::time::Duration) -> anyhow::Result<()> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.pg_ctl(&["stop"])).await??;
        tokio::time::sleep(down_for).await;
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.pg_ctl(&["start"])).await?
    }

    /// Stops PostgreSQL (fast) and removes the cluster's files.
    pub async fn remove(self) -> anyhow::Result<()> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || self.pg_ctl(&["stop"])).await??;
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))
    }
}

/// Stops and removes the cluster once this test process is gone (Rust has
/// no exit hook, and the server outlives its parent otherwise).
fn watch_over(bin: &Path, dir: &Path, root: bool) -> anyhow::Result<()> {
    let as_postgres = if root { "runuser -u postgres -- " } else { "" };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {as_postgres}{pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        pg_ctl = bin.join("pg_ctl").display(),
        data = dir.join("data").display(),
        dir = dir.display(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start the cluster's watchdog")?;
    Ok(())
}
