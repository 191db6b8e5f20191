//! A native sync client: the shared `DocSet` over a tokio-tungstenite socket.
//! Tests (and benchmarks) use it as an agent's browser would.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use automerge::{ChangeHash, sync};
use baton_shared::docset::{DocSet, Event};
use baton_shared::ids::DocumentId;
use baton_shared::protocol::Message;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

mod conversations;

pub use conversations::WAIT;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How the client proves who it is.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A session token (the `baton_session` cookie's value).
    Session(String),
    /// An API token, sent as `?token=`.
    Token(String),
}

/// One connected client.
pub struct SyncClient {
    pub docs: DocSet,
    socket: Socket,
    /// Every event so far, oldest first.
    pub events: Vec<Event>,
    pub bytes_in: usize,
    pub bytes_out: usize,
    /// The close frame's code, once the server closed the socket.
    pub closed: Option<u16>,
    /// The latest sync message the server sent for each document.
    pub last_sync: HashMap<DocumentId, Vec<u8>>,
}

/// The websocket URL for `server_url` (http://…).
pub fn sync_url(server_url: &str, auth: &Auth) -> String {
    let base = server_url.replacen("http://", "ws://", 1);
    match auth {
        Auth::Token(token) => format!("{base}/sync?token={token}"),
        Auth::Session(_) => format!("{base}/sync"),
    }
}

/// Opens the raw socket, or the HTTP status the server refused it with.
pub async fn open_socket(
    server_url: &str,
    auth: &Auth,
    origin: Option<&str>,
) -> Result<Socket, u16> {
    open_socket_with(server_url, auth, origin, None).await
}

/// Like [`open_socket`], with a receive buffer of `recv_buffer` bytes (a
/// small one makes a peer that stops reading back-pressure the server fast).
pub async fn open_socket_with(
    server_url: &str,
    auth: &Auth,
    origin: Option<&str>,
    recv_buffer: Option<u32>,
) -> Result<Socket, u16> {
    let mut request = sync_url(server_url, auth)
        .into_client_request()
        .map_err(|_| 0u16)?;
    if let Auth::Session(token) = auth
        && let Ok(value) = format!("baton_session={token}").parse()
    {
        request.headers_mut().insert("cookie", value);
    }
    if let Some(origin) = origin
        && let Ok(value) = origin.parse()
    {
        request.headers_mut().insert("origin", value);
    }
    let connected = match recv_buffer {
        None => tokio_tungstenite::connect_async(request).await,
        Some(size) => {
            let addr = server_url
                .trim_start_matches("http://")
                .parse::<std::net::SocketAddr>()
                .map_err(|_| 0u16)?;
            let tcp = tokio::net::TcpSocket::new_v4().map_err(|_| 0u16)?;
            tcp.set_recv_buffer_size(size).map_err(|_| 0u16)?;
            let stream = tcp.connect(addr).await.map_err(|_| 0u16)?;
            tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await
        }
    };
    match connected {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(_) => Err(0),
    }
}

/// A sync message for `doc` carrying `chunks` (encoded changes, or anything
/// else), as a peer whose heads are `heads` would send it: what a
/// hand-written client can send.
pub fn raw_sync(doc: DocumentId, heads: Vec<ChangeHash>, chunks: Vec<Vec<u8>>) -> Message {
    let message = sync::Message {
        heads,
        need: Vec::new(),
        have: Vec::new(),
        changes: chunks.into(),
        flags: None,
        version: sync::MessageVersion::V1,
    };
    Message::Sync {
        sender_id: "hand-written".to_owned(),
        target_id: "baton-server".to_owned(),
        document_id: doc,
        data: message.encode(),
    }
}

impl SyncClient {
    /// Connects and joins with a fresh `DocSet`.
    pub async fn connect(server_url: &str, auth: &Auth) -> anyhow::Result<SyncClient> {
        let peer = format!("test-{}", hex_id());
        Self::reconnect(server_url, auth, DocSet::new(peer)).await
    }

    /// Connects and joins with the documents (and outbox) of an earlier connection.
    pub async fn reconnect(
        server_url: &str,
        auth: &Auth,
        docs: DocSet,
    ) -> anyhow::Result<SyncClient> {
        Self::join_with(server_url, auth, docs, None).await
    }

    /// Connects with a small receive buffer (to play a slow reader).
    pub async fn connect_small_buffer(server_url: &str, auth: &Auth) -> anyhow::Result<SyncClient> {
        let peer = format!("slow-{}", hex_id());
        Self::join_with(server_url, auth, DocSet::new(peer), Some(4096)).await
    }

    async fn join_with(
        server_url: &str,
        auth: &Auth,
        mut docs: DocSet,
        recv_buffer: Option<u32>,
    ) -> anyhow::Result<SyncClient> {
        let socket = open_socket_with(server_url, auth, None, recv_buffer)
            .await
            .map_err(|status| anyhow::anyhow!("the server refused the socket ({status})"))?;
        let join = docs.join();
        let mut client = SyncClient {
            docs,
            socket,
            events: Vec::new(),
            bytes_in: 0,
            bytes_out: 0,
            closed: None,
            last_sync: HashMap::new(),
        };
        client.send(&join).await?;
        client
            .wait(Duration::from_secs(10), |c| c.docs.is_joined())
            .await
            .context("no answer to join")?;
        Ok(client)
    }

    /// Sends one message.
    pub async fn send(&mut self, message: &Message) -> anyhow::Result<()> {
        let bytes = message.encode();
        self.bytes_out += bytes.len();
        self.socket.send(Frame::Binary(bytes.into())).await?;
        Ok(())
    }

    /// Sends raw bytes (for tests of malformed input).
    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> anyhow::Result<()> {
        self.socket.send(Frame::Binary(bytes.into())).await?;
        Ok(())
    }

    /// Sends everything the `DocSet` has queued.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        for message in self.docs.take_outgoing() {
            self.send(&message).await?;
        }
        Ok(())
    }

    /// Receives and handles messages until `done` holds, or fails at the deadline.
    pub async fn wait(
        &mut self,
        within: Duration,
        mut done: impl FnMut(&SyncClient) -> bool,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            self.flush().await?;
            if done(self) {
                return Ok(());
            }
            if self.closed.is_some() {
                bail!("the server closed the socket ({:?})", self.closed);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("condition not met within {within:?}");
            }
            match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) => {}
                Ok(None) => self.closed = Some(1006),
                Ok(Some(Err(_))) => self.closed = Some(1006),
                Ok(Some(Ok(frame))) => self.frame(frame)?,
            }
        }
    }

    fn frame(&mut self, frame: Frame) -> anyhow::Result<()> {
        match frame {
            Frame::Binary(bytes) => {
                self.bytes_in += bytes.len();
                let message = Message::decode(&bytes)?;
                if let Message::Sync {
                    document_id, data, ..
                } = &message
                {
                    self.last_sync.insert(*document_id, data.clone());
                }
                let events = self.docs.receive(message);
                self.events.extend(events);
            }
            Frame::Close(close) => {
                self.closed = Some(close.map_or(1005, |c| u16::from(c.code)));
            }
            _ => {}
        }
        Ok(())
    }

    /// Handles whatever arrives for `period` (to show that nothing does).
    pub async fn idle(&mut self, period: Duration) -> anyhow::Result<()> {
        let _ = self.wait(period, |_| false).await;
        if self.closed.is_some() {
            bail!("the server closed the socket ({:?})", self.closed);
        }
        Ok(())
    }

    /// Opens `ids` and waits until the server has answered for all of them.
    pub async fn open_all(&mut self, ids: &[DocumentId]) -> anyhow::Result<()> {
        for id in ids {
            self.docs.open(*id);
        }
        let wanted = ids.to_vec();
        self.wait(Duration::from_secs(30), move |c| {
            wanted.iter().all(|id| c.docs.doc(id).is_some())
        })
        .await
    }

    /// Waits until the server has acknowledged everything this client sent
    /// for `id` (its sync state says the server has our heads).
    pub async fn settle(&mut self, id: DocumentId) -> anyhow::Result<()> {
        self.docs.sync(id);
        self.acknowledged(&[id], Duration::from_secs(10)).await
    }

    /// Keeps syncing until the server holds this client's heads of every one
    /// of `ids`, or has refused a change to it. A change can need more than
    /// one round trip (the first message may only ask for the server's
    /// heads), so a fixed pause is not enough on a loaded machine.
    pub async fn acknowledged(
        &mut self,
        ids: &[DocumentId],
        within: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        let earlier = self.events.len();
        loop {
            let refused: Vec<DocumentId> = self.events[earlier..]
                .iter()
                .filter_map(|e| match e {
                    Event::Refused { document, .. } => *document,
                    _ => None,
                })
                .collect();
            let waiting = ids
                .iter()
                .filter(|id| !refused.contains(id))
                .filter(|id| {
                    let heads = self.docs.doc_mut(id).map(|d| d.get_heads());
                    !heads.is_some_and(|heads| heads.iter().all(|h| self.docs.server_has(id, h)))
                })
                .count();
            if waiting == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "the server acknowledged all but {waiting} of {} documents within {within:?}",
                    ids.len()
                );
            }
            // Handles what arrives (the server's answers) for a moment.
            let _ = self.wait(Duration::from_millis(20), |_| false).await;
            if self.closed.is_some() {
                bail!("the server closed the socket ({:?})", self.closed);
            }
        }
    }

    /// Refusals received so far.
    pub fn refusals(&self) -> Vec<(Option<DocumentId>, String)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Refused { document, code, .. } => Some((*document, code.clone())),
                _ => None,
            })
            .collect()
    }

    /// Closes the socket and hands back the documents (to reconnect later).
    pub async fn disconnect(mut self) -> DocSet {
        let _ = self.socket.close(None).await;
        self.docs
    }
}

fn hex_id() -> String {
    baton_shared::ids::random_bytes()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}
