//! Baton's server as a library: [`app`] builds the router, [`run`] serves it
//! until shutdown; `main.rs` only parses the command line.

pub mod api;
pub mod auth;
pub mod broadcast;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod error;
pub mod fanout;
pub mod hub;
pub mod ingest;
pub mod notify;
pub mod origin;
pub mod projection;
pub mod resident;
pub mod secrets;
mod static_files;
pub mod store;
pub mod team;

pub mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{LoginLimiter, TrustedProxies};
use crate::hub::Hub;

/// What every request handler shares; a cheap clone of `Arc`s.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    /// The built app (trunk's `dist/`), if this server serves it.
    pub dist: Option<PathBuf>,
    pub session_ttl: Duration,
    /// Failed sign-ins per account and address, and per address.
    pub logins: Arc<LoginLimiter>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Origins besides the server's own that may open `/sync`.
    pub origins: Arc<Vec<String>>,
    pub limits: ws::Limits,
    /// Cancelled on shutdown; every socket task watches it.
    pub shutdown: CancellationToken,
    /// Socket tasks, awaited on shutdown.
    pub tasks: TaskTracker,
}

impl AppState {
    pub fn new(hub: Arc<Hub>, dist: Option<PathBuf>, session_ttl: Duration) -> Self {
        let window = Duration::from_secs(15 * 60);
        AppState {
            hub,
            dist,
            session_ttl,
            logins: Arc::new(LoginLimiter::new(10, 50, window, 100_000)),
            trusted_proxies: Arc::new(TrustedProxies::default()),
            origins: Arc::new(Vec::new()),
            limits: ws::Limits::default(),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }
}

/// The HTTP routes: `/api/…`, `/healthz`, and the app for everything else.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/sync", get(ws::upgrade))
        .nest("/api", api::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            origin::refuse_cross_origin,
        ))
        .with_state(state.clone());
    match &state.dist {
        Some(dist) => router.merge(static_files::router(dist)),
        None => router,
    }
}

/// Liveness, and what this node is to the others: its name in the outbox,
/// its database engine, whether it sweeps, and how many changes it redid
/// because another node had moved their document.
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Json<serde_json::Value> {
    let hub = &state.hub;
    Json(serde_json::json!({
        "status": "ok",
        "node": hub.store().node(),
        "backend": hub.store().engine_name(),
        "leader": hub.leading(),
        "stale_retries": hub.stale_retries(),
    }))
}

/// Serves `app(state)` on `listener` until `state.shutdown` is cancelled,
/// then finishes the requests in flight and closes every socket (1001).
pub async fn run(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    let shutdown = state.shutdown.clone();
    let tasks = state.tasks.clone();
    // Without Nagle's algorithm: a frame written while the previous one is
    // unacknowledged would wait for the peer's delayed ACK (40 ms on Linux).
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await?;
    tasks.close();
    tasks.wait().await;
    Ok(())
}
