//! Harness for end-to-end tests: runs the real `baton` binary — its commands
//! and `baton serve` on 127.0.0.1 — against a temporary data directory (or
//! its own PostgreSQL database, with `BATON_TEST_BACKEND=postgres`).
//! `browser` drives headless Chromium, `proxy` cuts an agent's network,
//! `scene` is the stage of the live tests and `sync_client` an agent's app.

pub mod app_bench;
pub mod browser;
pub mod postgres;
pub mod proxy;
pub mod scene;
pub mod sync_client;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The workspace root (the parent of `tests/`).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (relative to the workspace
/// root, as cargo reads it there) or `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// The `baton` binary this workspace built (`BATON_BIN` overrides).
pub fn baton_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BATON_BIN") {
        return PathBuf::from(path);
    }
    target_dir().join("debug").join("baton")
}

/// The app trunk built (`BATON_DIST` overrides `<workspace>/dist`), or an
/// error that says how to build it: browser tests never skip silently.
pub fn app_dist() -> anyhow::Result<PathBuf> {
    let dist = std::env::var_os("BATON_DIST")
        .map(|dir| workspace_root().join(dir))
        .unwrap_or_else(|| workspace_root().join("dist"));
    let has_wasm = std::fs::read_dir(&dist)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|ext| ext == "wasm"))
        })
        .unwrap_or(false);
    if !dist.join("index.html").is_file() || !has_wasm {
        bail!(
            "no built app in {}: browser tests need it; run `trunk build --release` at the \
             workspace root (`cargo xtask test` builds it before the tests)",
            dist.display()
        );
    }
    Ok(dist)
}

/// Installs the npm packages of `dir` (a `package.json` with a committed
/// lockfile under `tests/`) unless `node_modules/<package>` is there.
/// Tests that need Node.js tools call it; nothing is fetched at run time
/// beyond the npm registry.
pub fn npm_install(dir: &Path, package: &str) -> anyhow::Result<()> {
    if dir.join("node_modules").join(package).is_dir() {
        return Ok(());
    }
    // `npm install` with the committed lockfile installs exactly the locked
    // versions; `npm ci` refuses lockfiles written while install scripts are
    // held back (cbor-extract's optional platform packages).
    let status = std::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .with_context(|| format!("npm is needed to install {package} in {}", dir.display()))?;
    if !status.success() {
        bail!("npm install failed in {}", dir.display());
    }
    Ok(())
}

/// What a finished `baton` command printed.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Stdout as JSON (for `--json` commands).
    pub fn json(&self) -> anyhow::Result<Value> {
        serde_json::from_str(self.stdout.trim())
            .with_context(|| format!("not JSON: {:?} (stderr {:?})", self.stdout, self.stderr))
    }
}

/// Runs `baton --data <data> <args>` to completion (on PostgreSQL, with
/// the database of `data`: see [`postgres`]).
pub async fn baton(data: &Path, args: &[&str]) -> anyhow::Result<Output> {
    let database = postgres::database_args(data).await?;
    run_baton(data, &database, args).await
}

/// Runs `baton --data <data> <args>` where `args` name the database
/// themselves (`--database-url`), whatever the backend.
pub async fn baton_on_own_database(data: &Path, args: &[&str]) -> anyhow::Result<Output> {
    run_baton(data, &[], args).await
}

async fn run_baton(data: &Path, database: &[String], args: &[&str]) -> anyhow::Result<Output> {
    let out = Command::new(baton_binary())
        .arg("--data")
        .arg(data)
        .args(database)
        .args(args)
        .env("RUST_LOG", server_log())
        .output()
        .await
        .context("cannot run baton")?;
    Ok(Output {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs a `--json` command that must succeed and returns its JSON.
pub async fn baton_json(data: &Path, args: &[&str]) -> anyhow::Result<Value> {
    let mut all = args.to_vec();
    all.push("--json");
    let out = baton(data, &all).await?;
    if !out.success {
        bail!("baton {args:?} failed: {}", out.stderr);
    }
    out.json()
}

/// A running `baton serve`.
pub struct Server {
    pub url: String,
    /// What `serve --json` printed first (`url`, and `demo` logins with --demo).
    pub started: Value,
    child: Child,
}

impl Server {
    /// Starts `baton --data <data> serve --listen 127.0.0.1:0 --json <extra>`
    /// and waits until it reports its address.
    pub async fn start(data: &Path, extra: &[&str]) -> anyhow::Result<Server> {
        Self::start_within(data, extra, Duration::from_secs(60)).await
    }

    /// Like [`Server::start`], waiting up to `within` (seeding a large demo
    /// workspace takes a while).
    pub async fn start_within(
        data: &Path,
        extra: &[&str],
        within: Duration,
    ) -> anyhow::Result<Server> {
        Self::start_with_env(data, extra, &[], within).await
    }

    /// Like [`Server::start_within`], with extra environment variables
    /// (the debug build's fault injection, for one).
    pub async fn start_with_env(
        data: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        within: Duration,
    ) -> anyhow::Result<Server> {
        let database = postgres::database_args(data).await?;
        Self::start_on(data, &database, extra, env, within).await
    }

    /// Like [`Server::start_with_env`] on the database `database` names
    /// (`--database-url …`), whatever the suite's backend.
    pub async fn start_on(
        data: &Path,
        database: &[String],
        extra: &[&str],
        env: &[(&str, &str)],
        within: Duration,
    ) -> anyhow::Result<Server> {
        let mut child = Command::new(baton_binary())
            .arg("--data")
            .arg(data)
            .args(database)
            .args(["serve", "--listen", "127.0.0.1:0", "--json"])
            .args(extra)
            .envs(env.iter().copied())
            .env("RUST_LOG", server_log())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start baton serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tokio::time::timeout(left, lines.next_line())
                .await
                .with_context(|| format!("baton serve did not start within {within:?}"))??;
            let Some(line) = line else {
                bail!("baton serve exited before listening");
            };
            if let Ok(started) = serde_json::from_str::<Value>(&line)
                && let Some(url) = started["url"].as_str()
            {
                // Keep draining stdout so the server never blocks on a full pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                return Ok(Server {
                    url: url.to_owned(),
                    started,
                    child,
                });
            }
        }
    }

    /// Like [`Server::start`], serving the built app ([`app_dist`]) too.
    pub async fn with_app(data: &Path, extra: &[&str]) -> anyhow::Result<Server> {
        let dist = app_dist()?;
        let dist = dist.to_string_lossy();
        let mut args = vec!["--dist", dist.as_ref()];
        args.extend_from_slice(extra);
        Self::start(data, &args).await
    }

    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// SIGKILL: the process gets no chance to flush anything.
    pub async fn kill_hard(mut self) -> anyhow::Result<()> {
        self.child.kill().await?;
        Ok(())
    }

    /// SIGTERM, then wait for a clean exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = self.child.id().context("already stopped")?;
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
        let status = tokio::time::timeout(Duration::from_secs(20), self.child.wait())
            .await
            .context("baton did not stop within 20 s of SIGTERM")??;
        if !status.success() {
            bail!("baton exited with {status} after SIGTERM");
        }
        Ok(())
    }
}

/// A client with its own cookie jar (one signed-in agent).
pub fn client() -> reqwest::Client {
    #[allow(clippy::expect_used)]
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .expect("an HTTP client")
}

/// Signs `email` in on `client`.
pub async fn login(
    server: &Server,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> anyhow::Result<Value> {
    let response = client
        .post(server.at("/api/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await?;
    if response.status() != 200 {
        bail!(
            "login as {email} answered {}: {}",
            response.status(),
            response.text().await?
        );
    }
    Ok(response.json().await?)
}

/// Posts a customer message to a channel with its secret.
pub async fn ingest(
    server: &Server,
    channel: &str,
    secret: &str,
    body: Value,
) -> anyhow::Result<reqwest::Response> {
    Ok(reqwest::Client::new()
        .post(server.at(&format!("/api/channels/{channel}/messages")))
        .bearer_auth(secret)
        .json(&body)
        .send()
        .await?)
}

/// A small team on a fresh data directory: an admin, Ana and Ben, one channel.
pub struct Team {
    pub data: tempfile::TempDir,
    pub channel: String,
    pub secret: String,
    /// (email, agent id) of each member.
    pub agents: Vec<(String, String)>,
}

pub const PASSWORD: &str = "correct-horse";

impl Team {
    /// A team on the suite's backend (see [`postgres`]).
    pub async fn new() -> anyhow::Result<Team> {
        let data = tempfile::tempdir()?;
        let database = postgres::database_args(data.path()).await?;
        Self::on_database(data, &database).await
    }

    /// A team on PostgreSQL whatever the suite's backend, and the arguments
    /// that name its database (for servers started with [`Server::start_on`]).
    pub async fn on_postgres() -> anyhow::Result<(Team, Vec<String>)> {
        let data = tempfile::tempdir()?;
        let url = postgres::database_for(data.path()).await?;
        let database = vec!["--database-url".to_owned(), url];
        Ok((Self::on_database(data, &database).await?, database))
    }

    /// The team made in `data` with the commands of `baton`, on the
    /// database `database` names (`--database-url …`; none: the SQLite
    /// file in `data`), whatever the suite's backend.
    pub async fn on_database(data: tempfile::TempDir, database: &[String]) -> anyhow::Result<Team> {
        let path = data.path();
        let json = |args: Vec<&'static str>| async move {
            let mut args = args;
            args.push("--json");
            let out = run_baton(path, database, &args).await?;
            if !out.success {
                bail!("baton {args:?} failed: {}", out.stderr);
            }
            out.json()
        };
        let mut agents = Vec::new();
        for (email, name, admin) in [
            ("admin@acme.test", "Alex Admin", true),
            ("ana@acme.test", "Ana", false),
            ("ben@acme.test", "Ben", false),
        ] {
            let mut args = vec![
                "agent",
                "add",
                "--email",
                email,
                "--name",
                name,
                "--password",
                PASSWORD,
            ];
            if admin {
                args.push("--admin");
            }
            let added = json(args).await?;
            let id = added["id"].as_str().context("agent id")?;
            agents.push((email.to_owned(), id.to_owned()));
        }
        let channel = json(vec!["channel", "add", "--name", "Email"]).await?;
        Ok(Team {
            channel: channel["id"].as_str().context("channel id")?.to_owned(),
            secret: channel["secret"]
                .as_str()
                .context("channel secret")?
                .to_owned(),
            data,
            agents,
        })
    }

    pub fn path(&self) -> &Path {
        self.data.path()
    }

    /// The agent id (`agt_…`) of a member.
    pub fn agent(&self, email: &str) -> anyhow::Result<&str> {
        self.agents
            .iter()
            .find(|(e, _)| e == email)
            .map(|(_, id)| id.as_str())
            .with_context(|| format!("{email} is not in the team"))
    }
}

/// Signs in and returns the raw session token (for sockets).
pub async fn session_token(server: &Server, email: &str, password: &str) -> anyhow::Result<String> {
    let response = reqwest::Client::new()
        .post(server.at("/api/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await?;
    if response.status() != 200 {
        bail!("login as {email} answered {}", response.status());
    }
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .context("no session cookie")?;
    let token = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.strip_prefix("baton_session="))
        .context("no baton_session in the cookie")?;
    Ok(token.to_owned())
}

/// The workspace document's id, as `/api/login` tells it.
pub async fn workspace_document(server: &Server) -> anyhow::Result<baton_shared::ids::DocumentId> {
    let me = login(server, &client(), "ana@acme.test", PASSWORD).await?;
    let id = me["workspace"]
        .as_str()
        .context("no workspace in /api/login")?;
    Ok(id.parse()?)
}

/// Opens a conversation from `customer` over ingest; returns its document id.
pub async fn new_conversation(
    server: &Server,
    team: &Team,
    customer: &str,
) -> anyhow::Result<baton_shared::ids::DocumentId> {
    let body = serde_json::json!({
        "customer": { "email": format!("{customer}@shop.example"), "name": customer },
        "subject": "Help",
        "body": "Hello?",
    });
    let landed: Value = ingest(server, &team.channel, &team.secret, body)
        .await?
        .json()
        .await?;
    let id = landed["document"]
        .as_str()
        .context("no document in the ingest answer")?;
    Ok(id.parse()?)
}

/// Where a customer message landed.
#[derive(Debug, Clone)]
pub struct Landed {
    /// `cnv_…`, as inbox rows carry it.
    pub conversation: String,
    /// The Automerge document id, as notifications carry it.
    pub document: String,
}

/// A customer (`customer@shop.example`) writes in: a new conversation, or one
/// more message on `to`. Fails unless the server took it.
pub async fn customer_writes(
    server: &Server,
    team: &Team,
    customer: &str,
    to: Option<&Landed>,
) -> anyhow::Result<Landed> {
    let mut body = serde_json::json!({
        "customer": { "email": format!("{customer}@shop.example"), "name": customer },
        "subject": format!("Question from {customer}"),
        "body": "Hello, I need help with my order.",
    });
    if let Some(landed) = to {
        body["conversation"] = Value::from(landed.conversation.clone());
        body["body"] = Value::from("Any news?");
    }
    let response = ingest(server, &team.channel, &team.secret, body).await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    if !status.is_success() {
        bail!("ingest answered {status}: {answer}");
    }
    Ok(Landed {
        conversation: answer["conversation"]
            .as_str()
            .context("no conversation in the ingest answer")?
            .to_owned(),
        document: answer["document"]
            .as_str()
            .context("no document in the ingest answer")?
            .to_owned(),
    })
}

/// Signs `email` in and GETs `path` as JSON.
pub async fn get_json_as(server: &Server, email: &str, path: &str) -> anyhow::Result<Value> {
    let client = client();
    login(server, &client, email, PASSWORD).await?;
    Ok(client.get(server.at(path)).send().await?.json().await?)
}

/// The notifications the server keeps for `email` about document `doc`.
pub async fn notifications_about(
    server: &Server,
    email: &str,
    doc: &str,
) -> anyhow::Result<Vec<Value>> {
    let all = get_json_as(server, email, "/api/notifications").await?;
    let list = all["notifications"]
        .as_array()
        .context("no notifications list")?;
    Ok(list
        .iter()
        .filter(|n| n["document"] == doc)
        .cloned()
        .collect())
}

/// The assignee (`agt_…`) the server's projection holds for `conversation`,
/// `None` while unassigned.
pub async fn assignee_on_server(
    server: &Server,
    conversation: &str,
) -> anyhow::Result<Option<String>> {
    let all = get_json_as(
        server,
        "admin@acme.test",
        "/api/conversations?view=all&limit=200",
    )
    .await?;
    let row = all["conversations"]
        .as_array()
        .context("no conversations list")?
        .iter()
        .find(|c| c["id"] == conversation)
        .with_context(|| format!("{conversation} is not on the server"))?;
    Ok(row["assignee"].as_str().map(str::to_owned))
}

/// What `baton` logs in tests: warnings, or `BATON_TEST_LOG` when set.
fn server_log() -> String {
    std::env::var("BATON_TEST_LOG").unwrap_or_else(|_| "warn".to_owned())
}
