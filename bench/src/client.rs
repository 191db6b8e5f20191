//! One load-generator client: an agent's `DocSet` (documents and sync
//! states, as in the app) over a tokio-tungstenite socket. A fleet's client
//! hands its documents to the fleet's [`Replicas`] once they have arrived,
//! and from then on keeps only its views of them. It counts its bytes and,
//! when it applies a change the [`Book`] is waiting for, records the
//! delivery's latency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use automerge::{ActorId, AutoCommit, ChangeHash};
use baton_shared::docset::{DocSet, Event};
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::protocol::Message;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::replica::{self, Replicas, SharedReplicas, View};

/// Read and write buffer of each socket (frames larger than this still pass).
const SOCKET_BUFFER: usize = 8 * 1024;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Incoming = Option<Result<Frame, tokio_tungstenite::tungstenite::Error>>;

/// Changes in flight, and the latency of every delivery seen so far.
pub struct Book {
    waiting: HashMap<ChangeHash, Waiting>,
    pub latency: Histogram<u64>,
    /// The deliveries to an agent on the author's node …
    pub same_node: Histogram<u64>,
    /// … and to an agent on another node (several nodes sharing a database).
    pub cross_node: Histogram<u64>,
    pub deliveries: u64,
    /// Changes the clients were told to make so far (made or not).
    pub handled: u64,
    /// What the last bulk reassign cost its author.
    pub bulk: BulkApplied,
    /// When a client last applied a change, expected or not.
    pub heard: Option<Instant>,
}

/// A change in flight.
struct Waiting {
    /// When its author made it.
    made: Instant,
    /// Holders that have yet to apply it.
    left: u32,
    /// The node its author is connected to.
    node: usize,
}

/// A bulk reassign as its author saw it.
#[derive(Debug, Clone, Copy, Default)]
pub struct BulkApplied {
    /// Time to make every change natively.
    pub apply: Duration,
    pub changed: usize,
}

/// The book shared by every client of a load.
pub type SharedBook = Arc<Mutex<Book>>;

impl Book {
    pub fn shared() -> SharedBook {
        Arc::new(Mutex::new(Book {
            waiting: HashMap::new(),
            latency: crate::stats::latency_histogram(),
            same_node: crate::stats::latency_histogram(),
            cross_node: crate::stats::latency_histogram(),
            deliveries: 0,
            handled: 0,
            bulk: BulkApplied::default(),
            heard: None,
        }))
    }

    /// `change` was made at `made` by an agent on `node`; `holders` other
    /// clients must apply it.
    pub fn expect(&mut self, change: ChangeHash, made: Instant, holders: u32, node: usize) {
        if holders > 0 {
            let waiting = Waiting {
                made,
                left: holders,
                node,
            };
            self.waiting.insert(change, waiting);
        }
    }

    /// A client on `node` applied `changes` at `now`.
    pub fn applied(&mut self, changes: &[ChangeHash], node: usize, now: Instant) {
        self.heard = Some(now);
        for change in changes {
            let Some(waiting) = self.waiting.get_mut(change) else {
                continue;
            };
            let latency = now.duration_since(waiting.made);
            crate::stats::record(&mut self.latency, latency);
            let path = if waiting.node == node {
                &mut self.same_node
            } else {
                &mut self.cross_node
            };
            crate::stats::record(path, latency);
            self.deliveries += 1;
            waiting.left -= 1;
            if waiting.left == 0 {
                self.waiting.remove(change);
            }
        }
    }

    /// Deliveries still expected.
    pub fn outstanding(&self) -> u64 {
        self.waiting
            .values()
            .map(|waiting| u64::from(waiting.left))
            .sum()
    }

    /// Forgets what is still expected and starts a fresh histogram.
    pub fn reset(&mut self) {
        self.waiting.clear();
        self.latency.reset();
        self.same_node.reset();
        self.cross_node.reset();
        self.deliveries = 0;
    }
}

/// Locks the book (a poisoned lock still holds valid counts).
pub fn lock(book: &SharedBook) -> MutexGuard<'_, Book> {
    book.lock().unwrap_or_else(|e| e.into_inner())
}

/// One connected agent.
pub struct Client {
    pub agent: AgentId,
    /// The node it is connected to, where several share a database (else 0).
    pub node: usize,
    pub docs: DocSet,
    /// Documents handed to the fleet's replicas (then no longer in `docs`).
    shared: Option<Shared>,
    sink: SplitSink<Socket, Frame>,
    /// Frames as the reader task received them. The socket is read all the
    /// time, also while the client sits idle between loads, so pings are
    /// answered: the stock peer drops a socket that misses one pong (5 s).
    frames: tokio::sync::mpsc::UnboundedReceiver<Incoming>,
    _reader: Reader,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Documents the server said it does not have.
    pub unavailable: u64,
    /// Changes the server refused (`baton/error`).
    pub refused: u64,
    /// The socket closed or broke during a load (an overloaded server cut
    /// the client off); it is no longer read or written.
    pub closed: bool,
}

impl Client {
    /// Connects to `url` and joins with `docs` (fresh, or from an earlier connection).
    pub async fn connect(url: &str, agent: AgentId, mut docs: DocSet) -> anyhow::Result<Client> {
        // Small socket buffers, as the server's: tungstenite zeroes its whole
        // read buffer (128 KiB by default) before each read, and with 500
        // sockets that memset was the generator's largest cost.
        let config = WebSocketConfig::default()
            .read_buffer_size(SOCKET_BUFFER)
            .write_buffer_size(SOCKET_BUFFER);
        // Without Nagle's algorithm, as browsers and node's `ws` open theirs:
        // a small frame written behind an unacknowledged one would otherwise
        // wait for the server's delayed ACK (40 ms on Linux).
        let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .with_context(|| format!("cannot open {}", url.split('?').next().unwrap_or(url)))?;
        let join = docs.join();
        let (sink, mut stream) = socket.split();
        let (tx, frames) = tokio::sync::mpsc::unbounded_channel();
        let reader = tokio::spawn(async move {
            loop {
                let frame = stream.next().await;
                let end = frame.is_none();
                if tx.send(frame).is_err() || end {
                    return;
                }
            }
        })
        .abort_handle();
        let reader = Reader(reader);
        let mut client = Client {
            agent,
            node: 0,
            docs,
            shared: None,
            sink,
            frames,
            _reader: reader,
            bytes_in: 0,
            bytes_out: 0,
            unavailable: 0,
            refused: 0,
            closed: false,
        };
        client.send(&[join]).await?;
        client
            .wait(Duration::from_secs(30), |c| c.docs.is_joined(), None)
            .await
            .context("no answer to join")?;
        Ok(client)
    }

    /// Sends `messages` in one flush.
    async fn send(&mut self, messages: &[Message]) -> anyhow::Result<()> {
        for message in messages {
            let bytes = message.encode();
            self.bytes_out += bytes.len() as u64;
            self.sink.feed(Frame::Binary(bytes.into())).await?;
        }
        self.sink.flush().await?;
        Ok(())
    }

    /// Sends everything the `DocSet` has queued.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        let outgoing = self.docs.take_outgoing();
        if outgoing.is_empty() {
            return Ok(());
        }
        self.send(&outgoing).await
    }

    /// Reads one frame and handles it; `Ok(false)` once the socket closed.
    pub async fn receive(&mut self, book: Option<&SharedBook>) -> anyhow::Result<bool> {
        let frame = self.next_frame().await;
        self.on_frame(frame, book).await
    }

    /// The next frame (cancel-safe, for `select!`).
    pub async fn next_frame(&mut self) -> Incoming {
        self.frames.recv().await.flatten()
    }

    /// Handles a frame from [`Client::next_frame`] and sends the answers;
    /// `Ok(false)` once the socket closed.
    pub async fn on_frame(
        &mut self,
        frame: Option<Result<Frame, tokio_tungstenite::tungstenite::Error>>,
        book: Option<&SharedBook>,
    ) -> anyhow::Result<bool> {
        let Some(frame) = frame else {
            return Ok(false);
        };
        match frame? {
            Frame::Binary(bytes) => {
                self.bytes_in += bytes.len() as u64;
                // The peer may speak messages this client does not need.
                if let Ok(message) = Message::decode(&bytes) {
                    self.handle(message, book)?;
                }
                self.flush().await?;
                Ok(true)
            }
            Frame::Close(_) => Ok(false),
            _ => Ok(true),
        }
    }

    /// Handles one message. Deliveries are recorded for shared documents
    /// only: every fleet under load has shared its documents.
    fn handle(&mut self, message: Message, book: Option<&SharedBook>) -> anyhow::Result<()> {
        let Some(message) = self.receive_shared(message, book)? else {
            return Ok(());
        };
        for event in self.docs.receive(message) {
            match event {
                Event::Unavailable(_) => self.unavailable += 1,
                Event::Refused { .. } => self.refused += 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Hands every document this client holds to `replicas`; it keeps its
    /// own view of each (version and sync state).
    pub fn share(&mut self, replicas: &SharedReplicas) {
        let ids: Vec<DocumentId> = self.docs.ids().copied().collect();
        let mut fleet = replica::lock(replicas);
        let shared = self.shared.get_or_insert_with(|| Shared {
            replicas: replicas.clone(),
            views: HashMap::new(),
            actor: ActorId::random(),
        });
        for id in ids {
            if let Some((doc, state)) = self.docs.take(&id) {
                shared.views.insert(id, fleet.adopt(id, doc, state));
            }
        }
    }

    /// A private copy of shared document `id` to change, with this agent's
    /// own actor; [`Client::commit`] hands it back.
    pub fn checkout(&self, id: &DocumentId) -> Option<AutoCommit> {
        let shared = self.shared.as_ref()?;
        let mut doc = Replicas::checkout(shared.views.get(id)?);
        doc.set_actor(shared.actor.clone());
        Some(doc)
    }

    /// Moves this agent to `doc`, its checkout of `id` changed, and queues
    /// the sync message that tells the server.
    pub fn commit(&mut self, id: DocumentId, doc: AutoCommit) {
        let Some(shared) = self.shared.as_mut() else {
            return;
        };
        let Some(view) = shared.views.get_mut(&id) else {
            return;
        };
        if let Some(message) = replica::lock(&shared.replicas).commit(id, view, doc) {
            self.docs.send_sync(id, message);
        }
    }

    /// Handles a sync message for a shared document; hands back any other
    /// message. A sync message that does not decode or apply ends the load.
    fn receive_shared(
        &mut self,
        message: Message,
        book: Option<&SharedBook>,
    ) -> anyhow::Result<Option<Message>> {
        let (id, data) = match &message {
            Message::Sync {
                document_id, data, ..
            }
            | Message::Request {
                document_id, data, ..
            } => (*document_id, data),
            _ => return Ok(Some(message)),
        };
        let Some(shared) = self.shared.as_mut() else {
            return Ok(Some(message));
        };
        let Some(view) = shared.views.get_mut(&id) else {
            return Ok(Some(message));
        };
        let received = replica::lock(&shared.replicas).receive(id, view, data)?;
        if let Some(book) = book
            && !received.applied.is_empty()
        {
            lock(book).applied(&received.applied, self.node, Instant::now());
        }
        if let Some(reply) = received.reply {
            self.docs.send_sync(id, reply);
        }
        Ok(None)
    }

    /// Receives until `done` holds, failing at the deadline.
    pub async fn wait(
        &mut self,
        within: Duration,
        mut done: impl FnMut(&mut Client) -> bool,
        book: Option<&SharedBook>,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            self.flush().await?;
            if done(self) {
                return Ok(());
            }
            match tokio::time::timeout_at(deadline, self.receive(book)).await {
                Err(_) => bail!("not done within {within:?}"),
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => bail!("the server closed the socket"),
                Ok(Err(err)) => return Err(err),
            }
        }
    }

    /// Opens `ids` and waits until each of them arrived with content (a first
    /// answer may carry only heads).
    pub async fn open_all(&mut self, ids: &[DocumentId], within: Duration) -> anyhow::Result<()> {
        for id in ids {
            self.docs.open(*id);
        }
        let wanted = ids.to_vec();
        self.wait(
            within,
            move |c| {
                wanted.iter().all(|id| {
                    c.docs
                        .doc_mut(id)
                        .is_some_and(|d| !d.get_heads().is_empty())
                })
            },
            None,
        )
        .await
    }

    /// Handles whatever arrives for `period`.
    pub async fn idle(&mut self, period: Duration) -> anyhow::Result<()> {
        match self.wait(period, |_| false, None).await {
            Ok(()) => Ok(()),
            Err(err) if err.to_string().starts_with("not done") => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Closes the socket and hands back the documents.
    pub async fn disconnect(mut self) -> DocSet {
        let _ = self.sink.close().await;
        self.docs
    }
}

/// A client's views of the documents it handed to the fleet.
struct Shared {
    replicas: SharedReplicas,
    views: HashMap<DocumentId, View>,
    /// The agent's actor in its changes (the shared copies carry another's).
    actor: ActorId,
}

/// Whether `err` is the socket's (closed, reset, written after closing)
/// rather than the load's own.
pub fn is_socket_error(err: &anyhow::Error) -> bool {
    err.downcast_ref::<tokio_tungstenite::tungstenite::Error>()
        .is_some()
}

/// Stops the reader task with its client.
struct Reader(tokio::task::AbortHandle);

impl Drop for Reader {
    fn drop(&mut self) {
        self.0.abort();
    }
}
