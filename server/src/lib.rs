//! Baton's server as a library: [`app`] builds the router, [`run`] serves it
//! until shutdown. `main.rs` only parses the command line.

pub mod cli;
mod static_files;

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// What every request handler shares; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The built app (trunk's `dist/`), if the server serves it.
    pub dist: Option<PathBuf>,
}

/// The HTTP routes.
pub fn app(state: AppState) -> Router {
    let router = Router::new().route("/healthz", get(healthz));
    match &state.dist {
        Some(dist) => router.merge(static_files::router(dist)),
        None => router,
    }
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Serves `app(state)` on `listener` until `shutdown` is cancelled, then
/// finishes the requests in flight.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn healthz_answers_ok() {
        let response = app(AppState { dist: None })
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}
