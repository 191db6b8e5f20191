//! The stage: a team (an admin, Ana and Ben, one channel) and `n` nodes
//! serving one database.

use std::time::Duration;

use anyhow::Context;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::notify::NoticeKind;
use baton_shared::workspace::{self, Workspace};
use baton_tests::postgres::{self, Backend};
use baton_tests::scene::signed_in;
use baton_tests::sync_client::SyncClient;
use baton_tests::{Landed, Server, Team, customer_writes};
use serde_json::Value;

pub use baton_tests::scene::WAIT;

/// How soon a change committed on one node must show on another: NOTIFY
/// and one catch-up on PostgreSQL; on SQLite, the 250 ms clock poll.
pub fn crossing_bound() -> Duration {
    match postgres::backend() {
        Backend::Postgres => Duration::from_millis(1_000),
        Backend::Sqlite => Duration::from_millis(2_000),
    }
}

pub struct Nodes {
    pub team: Team,
    servers: Vec<Option<Server>>,
    pub workspace: DocumentId,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Nodes {
    /// `n` nodes on one fresh database.
    pub async fn start(n: usize) -> anyhow::Result<Nodes> {
        Self::with(n, &[], &[]).await
    }

    /// `n` nodes, each run with `args` and `env`.
    pub async fn with(n: usize, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Nodes> {
        let team = Team::new().await?;
        let mut nodes = Nodes {
            team,
            servers: Vec::new(),
            workspace: DocumentId::random(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        for _ in 0..n {
            let server = nodes.launch().await?;
            nodes.servers.push(Some(server));
        }
        nodes.workspace = baton_tests::workspace_document(nodes.node(0)).await?;
        Ok(nodes)
    }

    async fn launch(&self) -> anyhow::Result<Server> {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        Server::start_with_env(self.team.path(), &args, &env, Duration::from_secs(60)).await
    }

    pub fn node(&self, i: usize) -> &Server {
        self.servers[i].as_ref().expect("that node was killed")
    }

    /// SIGKILL node `i`: no chance to finish anything.
    pub async fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        let server = self.servers[i].take().context("already killed")?;
        server.kill_hard().await
    }

    /// Starts node `i` again after a kill.
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<()> {
        let server = self.launch().await?;
        self.servers[i] = Some(server);
        Ok(())
    }

    /// `email` signed in on node `i`, over a socket to it, holding the
    /// workspace document.
    pub async fn agent(&self, i: usize, email: &str) -> anyhow::Result<SyncClient> {
        signed_in(self.node(i), email, self.workspace).await
    }

    /// A customer writes in on node `i`: a new conversation.
    pub async fn conversation(&self, i: usize, customer: &str) -> anyhow::Result<Landed> {
        customer_writes(self.node(i), &self.team, customer, None).await
    }

    /// Node `i`'s `/healthz`.
    pub async fn health(&self, i: usize) -> anyhow::Result<Value> {
        Ok(reqwest::get(self.node(i).at("/healthz"))
            .await?
            .json()
            .await?)
    }
}

pub fn document(landed: &Landed) -> DocumentId {
    landed.document.parse().expect("a document id")
}

pub fn workspace_of(client: &SyncClient, nodes: &Nodes) -> Workspace {
    workspace::read(client.docs.doc(&nodes.workspace).expect("the workspace")).expect("readable")
}

pub fn id_of(client: &SyncClient, nodes: &Nodes, email: &str) -> AgentId {
    workspace_of(client, nodes)
        .agent_by_email(email)
        .expect("a member")
        .id
        .clone()
}

/// Whether `client` was pushed a notification of `kind` about `doc`.
pub fn told(client: &SyncClient, kind: NoticeKind, doc: DocumentId) -> bool {
    client
        .pushed()
        .iter()
        .any(|n| n.kind == kind && n.document_id == doc)
}

/// The notifications the database keeps for `email`, as node `i` lists them.
pub async fn stored_notifications(
    nodes: &Nodes,
    i: usize,
    email: &str,
) -> anyhow::Result<Vec<Value>> {
    let all =
        baton_tests::get_json_as(nodes.node(i), email, "/api/notifications?limit=200").await?;
    Ok(all["notifications"]
        .as_array()
        .context("no notifications list")?
        .clone())
}

/// Waits until two clients hold the same heads of `doc`, letting each read
/// its socket in turn (either may still be behind the other).
pub async fn converged(
    a: &mut SyncClient,
    b: &mut SyncClient,
    doc: DocumentId,
) -> anyhow::Result<()> {
    let heads = |c: &SyncClient| c.docs.doc(&doc).map(|d| d.clone().get_heads());
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if heads(a).is_some() && heads(a) == heads(b) {
            return Ok(());
        }
        a.idle(Duration::from_millis(25)).await?;
        b.idle(Duration::from_millis(25)).await?;
    }
    let view = |c: &SyncClient| c.conversation(doc);
    anyhow::bail!(
        "the two clients never agreed on {doc}:\n{:?}\n{:?}\n{:?}\n{:?}",
        heads(a),
        view(a),
        heads(b),
        view(b)
    )
}
