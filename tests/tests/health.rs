//! The real binary starts, answers `/healthz`, and serves the app with an SPA fallback.

use baton_tests::Server;

#[tokio::test]
async fn the_binary_serves_health_and_the_app_shell() -> anyhow::Result<()> {
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
    let server = Server::start(&["--dist", &dist_arg]).await?;
    let http = reqwest::Client::new();

    let health: serde_json::Value = http
        .get(format!("{}/healthz", server.url))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(health["status"], "ok");

    let deep = http
        .get(format!("{}/inbox/mine", server.url))
        .send()
        .await?;
    assert_eq!(deep.status(), 200, "client routes fall back to index.html");
    assert_eq!(deep.headers()["cache-control"], "no-cache");
    assert!(deep.text().await?.contains("<title>Baton</title>"));

    let asset = http
        .get(format!("{}/baton-app-0123456789abcdef.js", server.url))
        .send()
        .await?;
    assert_eq!(asset.status(), 200);
    assert!(
        asset.headers()["cache-control"]
            .to_str()?
            .contains("immutable")
    );
    server.stop().await
}
