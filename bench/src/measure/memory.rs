//! Memory and start (measurement 5): server RSS per idle joined connection and per
//! resident document, and `baton serve`'s start time on a large store.

use std::time::Duration;

use anyhow::Context;
use baton_shared::docset::DocSet;
use futures_util::StreamExt;

use super::{Options, push, say};
use crate::client::Client;
use crate::fragment::{Figure, Fragment, Goal};
use crate::load;
use crate::seed;
use crate::target::{System, Target};

const GROUP: &str = "5. Memory and start";
/// Connections Baton allows one agent (`ws::limits`); the idle connections
/// are spread over enough agents to stay within it.
const CONNECTIONS_PER_AGENT: usize = 20;

pub async fn memory(options: &Options) -> anyhow::Result<Fragment> {
    let scale = &options.scale;
    let connections = scale.memory_connections;
    let documents = scale.memory_documents;
    // The idle connections' agents, and one more for the holder.
    let idle_agents = connections.div_ceil(CONNECTIONS_PER_AGENT).max(1);
    let agents = idle_agents + 1;
    let mut fragment = Fragment::new("memory");
    for (system, runs) in super::systems(options) {
        for run in 0..runs {
            std::fs::create_dir_all(&options.work)?;
            let data = tempfile::tempdir_in(&options.work)?;
            let (target, fixture, peer_docs) = match system {
                System::Baton => {
                    let fixture = seed::baton(data.path(), agents, documents).await?;
                    (
                        Target::baton(&options.programs, data.path()).await?,
                        fixture,
                        None,
                    )
                }
                System::Peer => {
                    let (fixture, docs) = seed::peer(agents, documents)?;
                    (
                        Target::peer(&options.programs, data.path()).await?,
                        fixture,
                        Some(docs),
                    )
                }
            };
            tokio::time::sleep(scale.settle).await;
            let empty = target.rss().context("no RSS for the server")?;
            let url = target.sync_url(fixture.token(idle_agents));
            let idle: Vec<Client> = futures_util::stream::iter(0..connections)
                .map(|n| {
                    let url = target.sync_url(fixture.token(n % idle_agents));
                    let agent = fixture.agent(n % idle_agents);
                    async move {
                        Client::connect(&url, agent, DocSet::new(format!("bench-idle-{n}"))).await
                    }
                })
                .buffer_unordered(32)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<anyhow::Result<_>>()?;
            tokio::time::sleep(scale.settle).await;
            let joined = target.rss().context("no RSS for the server")?;
            let holder = match peer_docs {
                None => {
                    let mut holder = Client::connect(
                        &url,
                        fixture.agent(idle_agents),
                        DocSet::new("bench-holder"),
                    )
                    .await?;
                    holder
                        .open_all(&fixture.conversations, Duration::from_secs(300))
                        .await?;
                    holder
                }
                Some(docs) => load::upload(&target, &fixture, docs).await?,
            };
            tokio::time::sleep(scale.settle).await;
            let resident = target.rss().context("no RSS for the server")?;
            let per_connection = joined.saturating_sub(empty) as f64 / connections as f64 / 1024.0;
            let per_document = resident.saturating_sub(joined) as f64 / documents as f64 / 1024.0;
            say(format!(
                "memory {} run {run}: {:.0} MiB empty, {per_connection:.1} KiB per idle connection, {per_document:.1} KiB per resident document",
                system.name(),
                empty as f64 / 1048576.0
            ));
            let figure = fragment.figure("memory.connection", || {
                Figure::new(
                    GROUP,
                    &format!("RSS per idle joined connection ({connections} connections)"),
                    "KiB",
                    true,
                )
                .with_goal(Goal::below(16.0))
            });
            push(figure, system, per_connection);
            let figure = fragment.figure("memory.document", || {
                Figure::new(
                    GROUP,
                    &format!(
                        "RSS per resident document ({documents} conversations held by one client)"
                    ),
                    "KiB",
                    true,
                )
            });
            push(figure, system, per_document);
            let figure = fragment.figure("memory.empty", || {
                Figure::new(GROUP, "RSS after start, before any connection", "MiB", true)
            });
            push(figure, system, empty as f64 / 1048576.0);
            holder.disconnect().await;
            for client in idle {
                client.disconnect().await;
            }
            target.stop().await?;
        }
    }
    Ok(fragment)
}

/// `baton serve` start time with a large store (seeded once and kept in the
/// work directory between benchmark runs).
pub async fn start(options: &Options) -> anyhow::Result<Fragment> {
    let conversations = options.scale.start_conversations;
    let mut fragment = Fragment::new("start");
    let data = options.work.join(format!("start-{conversations}"));
    let ready = data.join("seeded");
    if !ready.exists() {
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)?;
        say(format!(
            "seeding {conversations} conversations for the start time (kept for later runs)"
        ));
        let begun = std::time::Instant::now();
        seed::baton(&data, 1, conversations).await?;
        std::fs::write(&ready, format!("{:.1} s", begun.elapsed().as_secs_f64()))?;
    }
    for run in 0..options.runs {
        let target = Target::baton(&options.programs, &data).await?;
        let took = target.started_in;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rss = target.rss().unwrap_or_default();
        target.stop().await?;
        say(format!(
            "start run {run}: listening after {:.0} ms with {conversations} conversations stored, RSS {:.0} MiB",
            took.as_secs_f64() * 1000.0,
            rss as f64 / 1048576.0
        ));
        let figure = fragment.figure("start.time", || {
            Figure::new(
                GROUP,
                &format!("`baton serve` until listening, {conversations} conversations stored"),
                "ms",
                true,
            )
        });
        figure.baton.push(took.as_secs_f64() * 1000.0);
        let figure = fragment.figure("start.rss", || {
            Figure::new(
                GROUP,
                &format!("RSS after start, {conversations} conversations stored"),
                "MiB",
                true,
            )
        });
        figure.baton.push(rss as f64 / 1048576.0);
    }
    Ok(fragment)
}
