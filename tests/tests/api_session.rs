//! Sign in, sign out, who am I, session expiry and the sign-in rate limit.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use baton_tests::{PASSWORD, Server, Team, client, login};
use serde_json::json;

#[tokio::test]
async fn login_me_logout() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let ana = client();
    let signed_in = login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    assert_eq!(signed_in["agent"]["name"], "Ana");
    let me: serde_json::Value = ana.get(server.at("/api/me")).send().await?.json().await?;
    assert_eq!(me["agent"]["email"], "ana@acme.test");
    assert_eq!(me["workspace"], signed_in["workspace"]);
    assert!(
        me["workspace"].as_str().unwrap().len() >= 20,
        "an automerge-repo document id"
    );

    let out = ana.post(server.at("/api/logout")).send().await?;
    assert_eq!(out.status(), 204);
    let after = ana.get(server.at("/api/me")).send().await?;
    assert_eq!(after.status(), 401);
    server.stop().await
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let response = reqwest::Client::new()
        .post(server.at("/api/login"))
        .json(&json!({ "email": "ana@acme.test", "password": PASSWORD }))
        .send()
        .await?;
    let cookie = response.headers()["set-cookie"].to_str()?.to_owned();
    assert!(cookie.starts_with("baton_session=bses_"));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    server.stop().await
}

#[tokio::test]
async fn bad_sign_ins_are_refused_with_clear_errors() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let http = reqwest::Client::new();
    let post = |body: serde_json::Value| http.post(server.at("/api/login")).json(&body).send();

    let wrong = post(json!({ "email": "ana@acme.test", "password": "nope-nope" })).await?;
    assert_eq!(wrong.status(), 401);
    let body: serde_json::Value = wrong.json().await?;
    assert_eq!(body["error"]["message"], "wrong email or password");

    let unknown = post(json!({ "email": "who@acme.test", "password": PASSWORD })).await?;
    assert_eq!(unknown.status(), 401);

    let missing = post(json!({ "email": "ana@acme.test" })).await?;
    assert_eq!(missing.status(), 400, "a field is missing");
    let malformed = http
        .post(server.at("/api/login"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert_eq!(malformed.status(), 400);
    let not_json = http
        .post(server.at("/api/login"))
        .body("email=ana")
        .send()
        .await?;
    assert_eq!(not_json.status(), 415);
    server.stop().await
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let http = reqwest::Client::new();
    for _ in 0..10 {
        let r = http
            .post(server.at("/api/login"))
            .json(&json!({ "email": "ben@acme.test", "password": "guess-guess" }))
            .send()
            .await?;
        assert_eq!(r.status(), 401);
    }
    let blocked = http
        .post(server.at("/api/login"))
        .json(&json!({ "email": "ben@acme.test", "password": PASSWORD }))
        .send()
        .await?;
    assert_eq!(blocked.status(), 429, "even the right password waits");
    assert!(blocked.headers().contains_key("retry-after"));
    // Another account from the same address is not locked.
    login(&server, &client(), "ana@acme.test", PASSWORD).await?;
    server.stop().await
}

#[tokio::test]
async fn sessions_expire() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &["--session-ttl", "1"]).await?;
    let ana = client();
    login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    assert_eq!(ana.get(server.at("/api/me")).send().await?.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = ana.get(server.at("/api/me")).send().await?.status();
        if status == 401 {
            break;
        }
        assert!(Instant::now() < deadline, "the session never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await
}
