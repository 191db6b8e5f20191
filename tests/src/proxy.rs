//! A TCP proxy in front of the server, one per agent, to take that agent
//! offline: a browser's offline switch does not close open websockets, so
//! [`Proxy::cut`] drops every open connection and refuses new ones until
//! [`Proxy::restore`].
//!
//! A browser that loads the app through the proxy sends the proxy's address
//! as both `Host` and `Origin`, so the server's same-origin check on `/sync`
//! accepts it without any `--origin`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// Whether the link is cut, and the connections open through it.
#[derive(Default)]
struct Link {
    cut: bool,
    open: Vec<AbortHandle>,
}

/// A running proxy; it stops when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:<port>`: give this to the agent's browser.
    pub url: String,
    link: Arc<Mutex<Link>>,
    accept: JoinHandle<()>,
}

fn lock(link: &Mutex<Link>) -> std::sync::MutexGuard<'_, Link> {
    link.lock().unwrap_or_else(|e| e.into_inner())
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `server_url`
    /// (`http://host:port`).
    pub async fn start(server_url: &str) -> anyhow::Result<Proxy> {
        let upstream: SocketAddr = server_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .with_context(|| format!("the proxy needs http://ip:port, not {server_url:?}"))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let link = Arc::new(Mutex::new(Link::default()));
        let accept = tokio::spawn(accept_loop(listener, upstream, link.clone()));
        Ok(Proxy { url, link, accept })
    }

    /// `url` + `path`.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Drops every open connection and refuses new ones: the agent is offline.
    pub fn cut(&self) {
        let mut link = lock(&self.link);
        link.cut = true;
        for connection in link.open.drain(..) {
            connection.abort();
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        lock(&self.link).cut = false;
    }

    pub fn is_cut(&self) -> bool {
        lock(&self.link).cut
    }

    /// Connections open through the proxy now.
    pub fn open_connections(&self) -> usize {
        let mut link = lock(&self.link);
        link.open.retain(|c| !c.is_finished());
        link.open.len()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, link: Arc<Mutex<Link>>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            // Out of file descriptors, say: let some close before retrying.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        // Checked and registered under one lock, so a cut() never misses a
        // connection accepted at the same moment.
        let mut state = lock(&link);
        if state.cut {
            drop(inbound);
            continue;
        }
        state.open.retain(|c| !c.is_finished());
        let task = tokio::spawn(forward(inbound, upstream));
        state.open.push(task.abort_handle());
    }
}

async fn forward(mut inbound: TcpStream, upstream: SocketAddr) {
    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
}
