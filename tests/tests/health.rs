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

#[tokio::test]
async fn the_app_goes_out_precompressed_in_the_best_encoding_the_browser_takes()
-> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let dist = tempfile::tempdir()?;
    let wasm = dist.path().join("baton-app-0123456789abcdef_bg.wasm");
    std::fs::write(&wasm, b"\0asm plain")?;
    // Marked contents: the test sees which file was sent, not a recompression.
    std::fs::write(wasm.with_extension("wasm.br"), b"brotli bytes")?;
    std::fs::write(wasm.with_extension("wasm.gz"), b"gzip bytes")?;
    std::fs::write(dist.path().join("index.html"), "<title>Baton</title>")?;
    std::fs::write(dist.path().join("index.html.br"), "index as brotli")?;
    let dist_arg = dist.path().to_string_lossy().into_owned();
    let server = Server::start(data.path(), &["--dist", &dist_arg]).await?;
    let http = reqwest::Client::new();
    let path = "/baton-app-0123456789abcdef_bg.wasm";
    for (accepts, encoding, body) in [
        ("gzip, deflate, br", Some("br"), &b"brotli bytes"[..]),
        ("gzip", Some("gzip"), &b"gzip bytes"[..]),
        ("identity", None, &b"\0asm plain"[..]),
    ] {
        let response = http
            .get(server.at(path))
            .header("accept-encoding", accepts)
            .send()
            .await?;
        assert_eq!(response.status(), 200);
        let got = response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(got.as_deref(), encoding, "for {accepts}");
        assert_eq!(response.headers()["content-type"], "application/wasm");
        assert_eq!(&response.bytes().await?[..], body, "for {accepts}");
    }
    // The SPA fallback is precompressed too.
    let deep = http
        .get(server.at("/inbox/mine"))
        .header("accept-encoding", "br")
        .send()
        .await?;
    assert_eq!(deep.headers()["content-encoding"], "br");
    assert_eq!(&deep.bytes().await?[..], b"index as brotli");
    server.stop().await
}
