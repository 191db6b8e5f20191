//! F11: a page of another origin driving a signed-in admin's browser.
//! `SameSite=Lax` lets a page on another port of the same host send the
//! cookie; every state-changing request must come from the app's origin.

use serde_json::json;

use crate::scene::Scene;

#[tokio::test]
async fn state_changing_requests_from_another_origin_are_refused() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let admin = scene.signed_in_over_http("admin@acme.test").await?;
    let other_port = scene
        .server
        .url
        .replace(scene.server.url.rsplit(':').next().unwrap(), "1");
    let channel = |origin: Option<&str>, site: Option<&str>| {
        let mut request = admin
            .post(scene.server.at("/api/channels"))
            .json(&json!({"name": "Phishing"}));
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        request.send()
    };
    assert_eq!(channel(Some(&other_port), None).await?.status(), 403);
    assert_eq!(
        channel(Some("http://evil.example"), None).await?.status(),
        403
    );
    assert_eq!(channel(None, Some("same-site")).await?.status(), 403);
    // A form post to a body-less endpoint: rotating a channel's secret.
    let rotate = admin
        .post(
            scene
                .server
                .at(&format!("/api/channels/{}/secret", scene.team.channel)),
        )
        .header("origin", &other_port)
        .send()
        .await?;
    assert_eq!(rotate.status(), 403);
    let still = baton_tests::customer_writes(&scene.server, &scene.team, "dana", None).await;
    assert!(still.is_ok(), "the secret was not rotated");
    // Nothing was made; the app's own origin is obeyed.
    assert_eq!(channel(Some(&scene.server.url), None).await?.status(), 201);
    assert_eq!(channel(None, None).await?.status(), 201, "not a browser");
    // Signing out from another origin is refused too.
    let out = admin
        .post(scene.server.at("/api/logout"))
        .header("origin", &other_port)
        .send()
        .await?;
    assert_eq!(out.status(), 403);
    assert_eq!(
        admin.get(scene.server.at("/api/me")).send().await?.status(),
        200
    );
    Ok(())
}

#[tokio::test]
async fn over_https_the_cookie_is_host_only_and_secure() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let https = scene.server.url.replace("http://", "https://");
    let response = reqwest::Client::new()
        .post(scene.server.at("/api/login"))
        .header("origin", &https)
        .json(&json!({"email": "ana@acme.test", "password": baton_tests::PASSWORD}))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str()?.to_owned();
    assert!(cookie.starts_with("__Host-baton_session="), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(!cookie.contains("Domain"), "{cookie}");
    // The server reads it back.
    let token = cookie
        .split(';')
        .next()
        .and_then(|p| p.strip_prefix("__Host-baton_session="))
        .unwrap();
    let me = reqwest::Client::new()
        .get(scene.server.at("/api/me"))
        .header("cookie", format!("__Host-baton_session={token}"))
        .send()
        .await?;
    assert_eq!(me.status(), 200);
    Ok(())
}
