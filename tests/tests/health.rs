//! The real binary starts, answers `/healthz`, and serves the app with an SPA fallback.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use baton_tests::Server;

#[tokio::test]
async fn the_binary_serves_health_and_the_app_shell() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let dist = tempfile::tempdir()?;
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>Baton</title>",
    )?;
    std::fs::write(
        dist.path().join("baton-app-0123456789abcdef.js"),
        "export {}",
    )?;
    let dist_arg = dist.path().to_string_lossy().into_owned();
    let server = Server::start(data.path(), &["--dist", &dist_arg]).await?;
    let http = reqwest::Client::new();

    let health: serde_json::Value = http.get(server.at("/healthz")).send().await?.json().await?;
    assert_eq!(health["status"], "ok");

    let deep = http.get(server.at("/inbox/mine")).send().await?;
    assert_eq!(deep.status(), 200, "client routes fall back to index.html");
    assert_eq!(deep.headers()["cache-control"], "no-cache");
    assert!(deep.text().await?.contains("<title>Baton</title>"));

    let asset = http
        .get(server.at("/baton-app-0123456789abcdef.js"))
        .send()
        .await?;
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["cache-control"]
            .to_str()?
            .contains("immutable")
    );

    let api = http.get(server.at("/api/nothing-here")).send().await?;
    assert_eq!(api.status(), 404, "unknown API paths are not the app");
    server.stop().await
}
