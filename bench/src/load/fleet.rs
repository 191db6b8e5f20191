//! Connecting a fleet: agents join, open the shared conversations and hand
//! them to the fleet's replicas; and, for the peer, the seeding upload of
//! documents the load generator made.

use std::time::Duration;

use anyhow::Context;
use automerge::AutoCommit;
use baton_shared::docset::DocSet;
use baton_shared::ids::DocumentId;
use futures_util::StreamExt;

use crate::client::Client;
use crate::replica::{Replicas, SharedReplicas};
use crate::seed::Fixture;
use crate::target::{Servers, System, Target};

/// How many clients connect and open documents at once.
const SETUP_CONCURRENCY: usize = 16;

/// Connected agents holding the fixture's conversations, each copy of a
/// conversation shared by the agents standing at the same version.
pub struct Fleet {
    pub clients: Vec<Client>,
    pub conversations: Vec<DocumentId>,
    pub replicas: SharedReplicas,
}

impl Fleet {
    /// A fleet of no agents yet, to hold `conversations`.
    pub fn new(conversations: Vec<DocumentId>) -> Fleet {
        Fleet {
            clients: Vec::new(),
            conversations,
            replicas: Replicas::shared(),
        }
    }
}

/// Connects `count` agents to `servers`, each opening `conversations`.
pub async fn connect(
    servers: &impl Servers,
    fixture: &Fixture,
    count: usize,
    conversations: &[DocumentId],
) -> anyhow::Result<Fleet> {
    let mut fleet = Fleet::new(conversations.to_vec());
    grow(&mut fleet, servers, fixture, count).await?;
    Ok(fleet)
}

/// Adds `more` agents to `fleet` (client numbers continue from its size),
/// each on the node `servers` deals it to. Clients already connected keep
/// reading meanwhile, so they answer the server's pings and are not taken
/// for idle.
pub async fn grow(
    fleet: &mut Fleet,
    servers: &impl Servers,
    fixture: &Fixture,
    more: usize,
) -> anyhow::Result<()> {
    let first = fleet.clients.len();
    let numbers: Vec<usize> = (first..first + more).collect();
    for chunk in numbers.chunks(SETUP_CONCURRENCY * 2) {
        let connecting = futures_util::stream::iter(chunk.iter().copied())
            .map(|n| {
                let url = servers.url_for(n, fixture.token(n));
                let node = servers.node_of(n);
                let agent = fixture.agent(n);
                let ids = fleet.conversations.clone();
                async move {
                    let peer_id = format!(
                        "bench-{n}-{}",
                        hex::encode(&baton_shared::ids::random_bytes()[..4])
                    );
                    let mut client = Client::connect(&url, agent, DocSet::new(peer_id)).await?;
                    client.node = node;
                    client.open_all(&ids, Duration::from_secs(300)).await?;
                    anyhow::Ok(client)
                }
            })
            .buffered(SETUP_CONCURRENCY);
        let mut added: Vec<Client> = connecting
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<_>>()
            .context("connecting the fleet")?;
        for client in &mut fleet.clients {
            client.idle(Duration::from_micros(200)).await?;
        }
        for client in &mut added {
            client.share(&fleet.replicas);
        }
        fleet.clients.extend(added);
    }
    Ok(())
}

/// Documents uploaded to the peer before waiting for it to hold them.
const UPLOAD_WINDOW: usize = 250;

/// Uploads documents the load generator made to the peer (only the server
/// creates documents in Baton; in automerge-repo any client may).
pub async fn upload(
    target: &Target,
    fixture: &Fixture,
    docs: Vec<AutoCommit>,
) -> anyhow::Result<Client> {
    debug_assert_eq!(target.system, System::Peer);
    let mut set = DocSet::new("bench-seeder");
    for (id, doc) in fixture.conversations.iter().zip(docs) {
        set.insert(*id, doc);
    }
    let mut seeder = Client::connect(&target.sync_url(None), fixture.agent(0), set)
        .await
        .context("the seeding client")?;
    // In windows: the stock peer pings every 5 s and cuts a socket whose
    // pong has not come back by the next ping. A pong sent while thousands
    // of documents are still queued ahead of it on the same socket reaches
    // the peer only after all of them, later than that on this machine.
    for window in fixture.conversations.chunks(UPLOAD_WINDOW) {
        for id in window {
            seeder.docs.sync(*id);
        }
        let ids = window.to_vec();
        seeder
            .wait(
                Duration::from_secs(120),
                move |c| {
                    ids.iter().all(|id| {
                        let heads = c
                            .docs
                            .doc_mut(id)
                            .map(|d| d.get_heads())
                            .unwrap_or_default();
                        heads.iter().all(|h| c.docs.server_has(id, h))
                    })
                },
                None,
            )
            .await
            .context("uploading documents to the peer")?;
    }
    Ok(seeder)
}
