//! The stage most live tests play on: a team (an admin, Ana and Ben, one
//! channel), one server, and agents signed in over sockets.

use std::time::Duration;

use anyhow::Context;
use automerge::{AutoCommit, ChangeHash};
use baton_shared::conversation::read;
use baton_shared::docset::DocSet;
use baton_shared::ids::DocumentId;
use baton_shared::model::Conversation;
use serde_json::Value;

use crate::sync_client::{Auth, SyncClient};
use crate::{Landed, PASSWORD, Server, Team, customer_writes, session_token};

pub use crate::sync_client::WAIT;

/// A team and the server it works on.
pub struct Scene {
    pub team: Team,
    pub server: Server,
    /// The workspace document's id.
    pub workspace: DocumentId,
}

impl Scene {
    pub async fn new() -> anyhow::Result<Scene> {
        Self::with(&[], &[]).await
    }

    /// A scene whose server runs with `args` and `env`.
    pub async fn with(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Scene> {
        let team = Team::new().await?;
        let server =
            Server::start_with_env(team.path(), args, env, Duration::from_secs(60)).await?;
        let workspace = crate::workspace_document(&server).await?;
        Ok(Scene {
            team,
            server,
            workspace,
        })
    }

    /// `email` signed in over a socket, holding the workspace document.
    pub async fn agent(&self, email: &str) -> anyhow::Result<SyncClient> {
        signed_in(&self.server, email, self.workspace).await
    }

    /// Ana and Ben, connected, each holding `doc`.
    pub async fn ana_and_ben_holding(
        &self,
        doc: DocumentId,
    ) -> anyhow::Result<(SyncClient, SyncClient)> {
        let mut ana = self.agent("ana@acme.test").await?;
        let mut ben = self.agent("ben@acme.test").await?;
        ana.open_all(&[doc]).await?;
        ben.open_all(&[doc]).await?;
        Ok((ana, ben))
    }

    /// `email` back online with the documents (and outbox) of `offline`,
    /// what an earlier connection held.
    pub async fn back_online(&self, email: &str, offline: DocSet) -> anyhow::Result<SyncClient> {
        let token = session_token(&self.server, email, PASSWORD).await?;
        SyncClient::reconnect(&self.server.url, &Auth::Session(token), offline).await
    }

    /// A customer writes in; the new conversation.
    pub async fn conversation(&self, customer: &str) -> anyhow::Result<Landed> {
        customer_writes(&self.server, &self.team, customer, None).await
    }

    /// What a client that connects now is given of `doc`: its heads and
    /// the document.
    pub async fn stored(&self, doc: DocumentId) -> anyhow::Result<(Vec<ChangeHash>, AutoCommit)> {
        let mut fresh = self.agent("admin@acme.test").await?;
        fresh.open_all(&[doc]).await?;
        let mut copy = fresh.docs.doc(&doc).context("no document")?.clone();
        Ok((copy.get_heads(), copy))
    }

    /// The conversation as a client that connects now reads it.
    pub async fn stored_conversation(&self, doc: DocumentId) -> anyhow::Result<Conversation> {
        Ok(read(&self.stored(doc).await?.1)?)
    }

    /// An HTTP client signed in as `email` (cookies kept).
    pub async fn signed_in_over_http(&self, email: &str) -> anyhow::Result<reqwest::Client> {
        let http = crate::client();
        crate::login(&self.server, &http, email, PASSWORD).await?;
        Ok(http)
    }

    /// The bodies of the replies the channel hands out for delivery to
    /// customers, oldest first.
    pub async fn delivered_replies(&self) -> anyhow::Result<Vec<String>> {
        delivered_replies(&self.server, &self.team).await
    }
}

/// `email` signed in on `server` over a socket, holding the workspace
/// document `workspace`.
pub async fn signed_in(
    server: &Server,
    email: &str,
    workspace: DocumentId,
) -> anyhow::Result<SyncClient> {
    let token = session_token(server, email, PASSWORD).await?;
    let mut client = SyncClient::connect(&server.url, &Auth::Session(token)).await?;
    client.open_all(&[workspace]).await?;
    Ok(client)
}

/// The bodies of the replies `team`'s channel hands out for delivery to
/// customers, oldest first.
pub async fn delivered_replies(server: &Server, team: &Team) -> anyhow::Result<Vec<String>> {
    let path = format!("/api/channels/{}/replies?after=0", team.channel);
    let replies: Value = reqwest::Client::new()
        .get(server.at(&path))
        .bearer_auth(&team.secret)
        .send()
        .await?
        .json()
        .await?;
    let list = replies["replies"].as_array().context("no replies list")?;
    Ok(list
        .iter()
        .filter_map(|r| r["body"].as_str().map(str::to_owned))
        .collect())
}
