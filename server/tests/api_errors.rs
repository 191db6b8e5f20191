//! The HTTP API's answers to bad input, from the router itself (no
//! server process): always a 4xx with a code and a message, never a 500.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use baton_server::hub::Hub;
use baton_server::store::{SqlStore, Store};
use baton_server::{AppState, app};
use tower::ServiceExt;

async fn router() -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir.path()).await.unwrap());
    let hub = Hub::open(store).await.unwrap();
    (app(AppState::new(hub, None, Duration::from_secs(60))), dir)
}

async fn answer(request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let (router, _dir) = router().await;
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn post(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn bad_input_is_a_4xx_with_a_code_and_a_message() {
    let cases = [
        (
            Request::get("/api/nothing-here")
                .body(Body::empty())
                .unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            post("/api/login", "application/json", "{not json"),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            post("/api/login", "text/plain", "email=a"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            post("/api/login", "application/json", vec![b' '; 300 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            Request::get("/api/me").body(Body::empty()).unwrap(),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
        (
            Request::post("/api/channels")
                .header("origin", "http://evil.example")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"name":"x"}"#))
                .unwrap(),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    ];
    for (request, status, code) in cases {
        let path = request.uri().path().to_owned();
        let (got, body) = answer(request).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}"
        );
    }
}
