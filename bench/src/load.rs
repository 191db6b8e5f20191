//! A fleet of connected agents that all hold the same conversations (a shared
//! inbox), and the open-loop load that runs on it: changes are scheduled by
//! the clock, whatever the server answers, and every delivery of every
//! change to every other holder is one latency sample.

mod drive;
mod fleet;

use std::time::{Duration, Instant};

use baton_shared::ids::{AgentId, DocumentId};
use tokio::sync::mpsc;

use crate::client::{Book, BulkApplied, Client, SharedBook, lock};
use crate::replica::SharedReplicas;
use crate::seed::Fixture;
use crate::stats::Latency;
use crate::target::{Servers, Target};
use drive::{Command, drive, reassign_doc};

pub use fleet::{Fleet, connect, grow, upload};

/// An open-loop load: `rate` changes per second for `duration`, each a
/// reassign by a different agent of the next conversation in turn.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub rate: f64,
    pub duration: Duration,
    /// How long to wait for the last deliveries after the last change.
    pub drain: Duration,
}

/// What a load measured.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub latency: Latency,
    /// Of the deliveries, those to an agent on the author's node …
    pub same_node: Latency,
    /// … and those to an agent on another node (empty with one node).
    pub cross_node: Latency,
    pub changes: u64,
    pub expected: u64,
    pub delivered: u64,
    /// Deliveries offered per second: rate × other holders.
    pub offered_per_s: f64,
    /// Deliveries applied per second over the scheduled period.
    pub delivered_per_s: f64,
    /// Load generator CPU over the run, as a share of one core.
    pub client_cpu: f64,
    /// Server CPU over the run, as a share of one core: every serving
    /// process, a database server of their own included.
    pub server_cpu: f64,
    /// Of which the database server's (PostgreSQL; zero on SQLite).
    pub database_cpu: f64,
    /// The run's length, from the first scheduled change to the last delivery.
    pub wall: Duration,
    /// The worst delay between a change's scheduled time and its making (a
    /// busy load generator shows here).
    pub worst_schedule_lag: Duration,
    /// Clients whose socket closed or broke during the run.
    pub closed: usize,
}

impl Outcome {
    /// Says so when the load generator, not the server, was the limit.
    pub fn saturation(&self) -> &'static str {
        saturation(self.client_cpu)
    }

    /// Whether every change reached every other holder with no socket lost.
    pub fn complete(&self) -> bool {
        self.delivered == self.expected && self.closed == 0
    }

    /// Says how many sockets closed, when any did.
    pub fn lost_sockets(&self) -> String {
        match self.closed {
            0 => String::new(),
            n => format!(", {n} sockets closed by the server or broken"),
        }
    }

    /// Server CPU per delivery in µs: what the server spends to bring one
    /// change to one other holder, whoever was the limit of the run.
    pub fn server_cpu_per_delivery_us(&self) -> f64 {
        self.per_delivery_us(self.server_cpu)
    }

    /// Of that, the database server's CPU per delivery in µs.
    pub fn database_cpu_per_delivery_us(&self) -> f64 {
        self.per_delivery_us(self.database_cpu)
    }

    fn per_delivery_us(&self, share_of_core: f64) -> f64 {
        share_of_core * self.wall.as_secs_f64() * 1e6 / self.delivered.max(1) as f64
    }
}

/// Says so when a load generator using `client_cpu` of its core was the limit.
pub fn saturation(client_cpu: f64) -> &'static str {
    if client_cpu >= 0.9 {
        "; the load generator was saturated (90% or more of its core), so this run measures it, not the server"
    } else {
        ""
    }
}

/// Runs `spec` on `fleet`; the fleet is handed back for the next run.
pub async fn run(
    fleet: Fleet,
    fixture: &Fixture,
    servers: &impl Servers,
    spec: Spec,
) -> anyhow::Result<(Fleet, Outcome)> {
    let book = Book::shared();
    let count = fleet.clients.len();
    let holders = u32::try_from(count.saturating_sub(1))?;
    let running = start(fleet, fixture, &book);
    let (senders, conversations) = (&running.senders, &running.conversations);
    let cpu_before = crate::cpu::process_cpu();
    let server_before = servers.serving_cpu();
    let begun = tokio::time::Instant::now() + Duration::from_millis(50);
    let total = (spec.rate * spec.duration.as_secs_f64()).round() as u64;
    let mut worst_lag = Duration::ZERO;
    for k in 0..total {
        let at = begun + Duration::from_secs_f64(k as f64 / spec.rate);
        tokio::time::sleep_until(at).await;
        worst_lag = worst_lag.max(tokio::time::Instant::now().duration_since(at));
        let n = k as usize;
        // Spread senders and targets so no agent changes the same document twice in a row.
        let sender = (n * 7919 + n / count) % count;
        let document = conversations[n % conversations.len()];
        let to = fixture.agent(sender + 1 + n % count.max(2).saturating_sub(1));
        let _ = senders[sender].send(Command::Change {
            document,
            to,
            holders,
        });
    }

    let scheduled = begun.elapsed();
    let deadline = tokio::time::Instant::now() + spec.drain;
    let busy = |book: &Book| book.handled < total || book.outstanding() > 0;
    while busy(&lock(&book)) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let wall = begun.elapsed();
    let client_cpu = crate::cpu::share_of_core(cpu_before, crate::cpu::process_cpu(), wall);
    let server_after = servers.serving_cpu();
    let share = |before, after| crate::cpu::share_of_core(before, after, wall);
    let outcome = {
        let book = lock(&book);
        Outcome {
            latency: Latency::of(&book.latency),
            same_node: Latency::of(&book.same_node),
            cross_node: Latency::of(&book.cross_node),
            changes: total,
            expected: total * u64::from(holders),
            delivered: book.deliveries,
            offered_per_s: spec.rate * f64::from(holders),
            delivered_per_s: book.deliveries as f64 / scheduled.as_secs_f64().max(1e-3),
            client_cpu,
            server_cpu: share(server_before.total, server_after.total),
            database_cpu: share(server_before.database, server_after.database),
            wall,
            worst_schedule_lag: worst_lag,
            closed: 0,
        }
    };
    settle(&book).await;
    let fleet = stop(running).await?;
    let outcome = Outcome {
        closed: fleet.clients.iter().filter(|c| c.closed).count(),
        ..outcome
    };
    Ok((fleet, outcome))
}

/// `fleet` again with every client connected: when a load closed some
/// sockets, all are closed and the same agents connect afresh.
pub async fn reconnect_if_closed(
    fleet: Fleet,
    servers: &impl Servers,
    fixture: &Fixture,
) -> anyhow::Result<Fleet> {
    if !fleet.clients.iter().any(|c| c.closed) {
        return Ok(fleet);
    }
    crate::measure::say("sockets closed");
    reconnect(fleet, servers, fixture).await
}

/// Drops every client's socket and connects the fleet afresh: what an
/// overloaded step left queued in the sockets (the server held up writing
/// to clients that stopped reading) goes with them.
pub async fn reconnect(
    fleet: Fleet,
    servers: &impl Servers,
    fixture: &Fixture,
) -> anyhow::Result<Fleet> {
    let count = fleet.clients.len();
    for client in fleet.clients {
        client.disconnect().await;
    }
    crate::measure::say(format!("reconnecting {count} agents"));
    connect(servers, fixture, count, &fleet.conversations).await
}

/// Lets the clients apply what is still on its way after a load's figures
/// are taken, so an overloaded run's backlog does not fall into the next.
async fn settle(book: &SharedBook) {
    let quiet = Duration::from_millis(500);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let heard = lock(book).heard;
        if heard.is_none_or(|at| at.elapsed() >= quiet) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One agent (client 0) reassigns every held conversation to another agent
/// at once; returns its native apply time and the time until every other
/// client has applied every change.
pub async fn bulk(
    fleet: Fleet,
    fixture: &Fixture,
    target: &Target,
    within: Duration,
) -> anyhow::Result<(Fleet, BulkOutcome)> {
    let book = Book::shared();
    let holders = u32::try_from(fleet.clients.len().saturating_sub(1))?;
    let running = start(fleet, fixture, &book);
    let cpu_before = crate::cpu::process_cpu();
    let server_before = target.cpu().unwrap_or_default();
    let begun = Instant::now();
    let to = fixture.agent(1);
    running.senders[0]
        .send(Command::Bulk {
            documents: running.conversations.clone(),
            to,
            holders,
        })
        .map_err(|_| anyhow::anyhow!("the bulk client stopped"))?;
    // Wait for the bulk client to register its changes before watching the book.
    tokio::time::sleep(Duration::from_millis(1)).await;
    let deadline = begun + within;
    let mut converged = None;
    loop {
        let outstanding = lock(&book).outstanding();
        let started = lock(&book).deliveries > 0 || outstanding > 0;
        if started && outstanding == 0 {
            converged = Some(begun.elapsed());
            break;
        }
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let wall = begun.elapsed();
    let outcome = BulkOutcome {
        applied: lock(&book).bulk,
        converged,
        client_cpu: crate::cpu::share_of_core(cpu_before, crate::cpu::process_cpu(), wall),
        server_cpu: crate::cpu::share_of_core(
            server_before,
            target.cpu().unwrap_or_default(),
            wall,
        ),
    };
    let fleet = stop(running).await?;
    Ok((fleet, outcome))
}

/// What a bulk reassign measured.
pub struct BulkOutcome {
    pub applied: BulkApplied,
    /// Until every other agent applied every change; `None` if not in time.
    pub converged: Option<Duration>,
    /// Load generator CPU until converged, as a share of one core.
    pub client_cpu: f64,
    /// Server CPU until converged, as a share of one core.
    pub server_cpu: f64,
}

type Tasks = Vec<tokio::task::JoinHandle<anyhow::Result<Client>>>;

/// A fleet while its clients run as tasks.
struct Running {
    senders: Vec<mpsc::UnboundedSender<Command>>,
    tasks: Tasks,
    conversations: Vec<DocumentId>,
    replicas: SharedReplicas,
}

fn start(fleet: Fleet, fixture: &Fixture, book: &SharedBook) -> Running {
    let mut senders = Vec::new();
    let mut tasks = Vec::new();
    for client in fleet.clients {
        let (tx, rx) = mpsc::unbounded_channel();
        senders.push(tx);
        tasks.push(tokio::spawn(drive(
            client,
            rx,
            book.clone(),
            fixture.workspace.clone(),
        )));
    }
    Running {
        senders,
        tasks,
        conversations: fleet.conversations,
        replicas: fleet.replicas,
    }
}

async fn stop(running: Running) -> anyhow::Result<Fleet> {
    drop(running.senders);
    let mut clients = Vec::new();
    for task in running.tasks {
        clients.push(task.await??);
    }
    Ok(Fleet {
        clients,
        conversations: running.conversations,
        replicas: running.replicas,
    })
}

/// Reassigns `document` to `to` (or, if it is theirs already, to the
/// author); returns the change's hash and size.
pub fn reassign(
    client: &mut Client,
    workspace: &baton_shared::workspace::Workspace,
    document: DocumentId,
    to: &AgentId,
) -> Option<(automerge::ChangeHash, usize)> {
    let agent = client.agent.clone();
    let doc = client.docs.doc_mut(&document)?;
    let hash = reassign_doc(doc, &agent, workspace, to)?;
    let size = doc.get_last_local_change()?.raw_bytes().len();
    Some((hash, size))
}
