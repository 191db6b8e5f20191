//! What a load needs before the clock starts: agents (with API tokens, so no
//! password check is timed), a channel and open conversations. Baton is
//! seeded through its own library on the data directory before it starts;
//! the peer gets the same workspace and documents from the load generator.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use automerge::AutoCommit;
use baton_server::hub::Hub;
use baton_server::{store, team};
use baton_shared::conversation::{self, NewConversation};
use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId};
use baton_shared::model::{Agent, Customer, Role};
use baton_shared::workspace::{self, Workspace};

/// The password every seeded agent gets (they sign in with API tokens).
const PASSWORD: &str = "bench-password";

/// The team and conversations a load runs on.
#[derive(Clone)]
pub struct Fixture {
    pub agents: Vec<AgentId>,
    /// One API token per agent (Baton only).
    pub tokens: Vec<String>,
    pub workspace: Arc<Workspace>,
    pub conversations: Vec<DocumentId>,
}

impl Fixture {
    /// The token client `index` signs in with (agents are reused round-robin).
    pub fn token(&self, index: usize) -> Option<&str> {
        if self.tokens.is_empty() {
            return None;
        }
        self.tokens
            .get(index % self.tokens.len())
            .map(String::as_str)
    }

    pub fn agent(&self, index: usize) -> AgentId {
        self.agents[index % self.agents.len()].clone()
    }
}

/// Seeds Baton's data directory with `agents` agents and `conversations`
/// open conversations, through the server's own library.
pub async fn baton(data: &Path, agents: usize, conversations: usize) -> anyhow::Result<Fixture> {
    baton_on(None, data, agents, conversations).await
}

/// Seeds the database at `database_url` (or, without it, the one in
/// `data`) as [`baton`] does.
pub async fn baton_on(
    database_url: Option<&str>,
    data: &Path,
    agents: usize,
    conversations: usize,
) -> anyhow::Result<Fixture> {
    let store = store::open(database_url, data).await?;
    let hub = Hub::open(store).await?;
    let channel = team::add_channel(&hub, "Email", "email").await?;
    let mut ids = Vec::new();
    let mut tokens = Vec::new();
    for n in 0..agents {
        let email = format!("agent{n}@bench.test");
        let added = team::add_agent(
            &hub,
            &email,
            &format!("Agent {n}"),
            Role::Agent,
            Some(PASSWORD),
            None,
        )
        .await?;
        let token = team::create_token(&hub, &email, None).await?.token;
        ids.push(added.id);
        tokens.push(token);
    }
    let documents = add_conversations(&hub, &channel.id, conversations).await?;
    let workspace = hub.workspace().await?;
    Ok(Fixture {
        agents: ids,
        tokens,
        workspace,
        conversations: documents,
    })
}

/// Adds `count` open conversations, many at a time (they share commits).
pub async fn add_conversations(
    hub: &Arc<Hub>,
    channel: &ChannelId,
    count: usize,
) -> anyhow::Result<Vec<DocumentId>> {
    let mut documents = Vec::with_capacity(count);
    for start in (0..count).step_by(256) {
        let mut batch = tokio::task::JoinSet::new();
        for n in start..count.min(start + 256) {
            let hub = hub.clone();
            let new = new_conversation(channel, n);
            batch.spawn(async move {
                hub.import_conversation(&new, |_, _| Ok(()))
                    .await
                    .map(|(id, _, _)| id)
            });
        }
        while let Some(done) = batch.join_next().await {
            documents.push(done.context("seeding task")??);
        }
    }
    Ok(documents)
}

fn new_conversation(channel: &ChannelId, n: usize) -> NewConversation {
    NewConversation {
        id: ConversationId::random(),
        channel: channel.clone(),
        subject: format!("Order {n} has not arrived"),
        customer: Customer {
            id: format!("cus_{n}"),
            name: format!("Customer {n}"),
            email: format!("customer{n}@shop.example"),
        },
        at: baton_shared::clock::now(),
    }
}

/// The peer's fixture: the same shape of workspace, kept by the load
/// generator (the peer has no rules), and `conversations` documents made
/// here, to be uploaded by a seeding client.
pub fn peer(agents: usize, conversations: usize) -> anyhow::Result<(Fixture, Vec<AutoCommit>)> {
    let now = baton_shared::clock::now();
    let mut doc = workspace::create("Bench", now)?;
    let channel = ChannelId::random();
    let mut ids = Vec::new();
    for n in 0..agents {
        let agent = Agent {
            id: AgentId::random(),
            name: format!("Agent {n}"),
            email: format!("agent{n}@bench.test"),
            role: Role::Agent,
            active: true,
            away: false,
            capacity: None,
        };
        workspace::put_agent(&mut doc, &agent, now)?;
        ids.push(agent.id);
    }
    let workspace = Arc::new(workspace::read(&doc)?);
    let mut docs = Vec::with_capacity(conversations);
    let mut documents = Vec::with_capacity(conversations);
    for n in 0..conversations {
        docs.push(conversation::create(&new_conversation(&channel, n))?);
        documents.push(DocumentId::random());
    }
    Ok((
        Fixture {
            agents: ids,
            tokens: Vec::new(),
            workspace,
            conversations: documents,
        },
        docs,
    ))
}
