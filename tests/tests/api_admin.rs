//! The admin API behind the app's Settings: adding agents and channels,
//! changing roles and capacity, deactivating, rotating ingest secrets.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use baton_shared::model::Role;
use baton_shared::workspace;
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{
    PASSWORD, Server, Team, baton_json, client, ingest, login, session_token, workspace_document,
};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

/// A fresh team's server, and its admin signed in over HTTP (the app's
/// Settings); keep the team for as long as the server runs.
async fn admin_at_work() -> anyhow::Result<(Team, Server, reqwest::Client)> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let admin = client();
    login(&server, &admin, "admin@acme.test", PASSWORD).await?;
    Ok((team, server, admin))
}

/// The id of the agent with `email`, as sign-in reports it.
async fn agent_id(server: &Server, email: &str) -> anyhow::Result<String> {
    let me = login(server, &client(), email, PASSWORD).await?;
    Ok(me["agent"]["id"].as_str().unwrap().to_owned())
}

async fn send(request: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// Agent `id` edited by the signed-in `by` (PATCH): status and answer.
async fn edit_agent(
    server: &Server,
    by: &reqwest::Client,
    id: &str,
    changes: Value,
) -> anyhow::Result<(u16, Value)> {
    send(
        by.patch(server.at(&format!("/api/agents/{id}")))
            .json(&changes),
    )
    .await
}

/// Asserts a refusal: a 409 with the error `code`, whose message says `says`.
fn assert_refused((status, body): &(u16, Value), code: &str, says: &str) {
    let got = (*status, body["error"]["code"].as_str());
    assert_eq!(got, (409, Some(code)), "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(says), "{body}");
}

async fn connect(server: &Server, email: &str) -> anyhow::Result<SyncClient> {
    let token = session_token(server, email, PASSWORD).await?;
    SyncClient::connect(&server.url, &Auth::Session(token)).await
}

#[tokio::test]
async fn an_admin_adds_an_agent_who_signs_in_with_the_password_shown_once() -> anyhow::Result<()> {
    let (_team, server, admin) = admin_at_work().await?;
    let (status, added) = send(admin.post(server.at("/api/agents")).json(&json!({
        "name": "Cleo", "email": " Cleo@Acme.test ", "role": "agent", "capacity": 12,
    })))
    .await?;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["agent"]["email"], "cleo@acme.test");
    assert_eq!(added["agent"]["role"], "agent");
    assert_eq!(added["agent"]["capacity"], 12);
    assert_eq!(added["agent"]["active"], true);
    let password = added["password"].as_str().unwrap();
    assert!(password.len() >= 16, "a generated password: {password:?}");

    let cleo = client();
    let me = login(&server, &cleo, "cleo@acme.test", password).await?;
    assert_eq!(me["agent"]["id"], added["agent"]["id"]);

    let mut watcher = connect(&server, "ana@acme.test").await?;
    let ws_id = workspace_document(&server).await?;
    watcher.open_all(&[ws_id]).await?;
    let ws = workspace::read(watcher.docs.doc(&ws_id).unwrap())?;
    let in_doc = ws.agent_by_email("cleo@acme.test").unwrap();
    assert_eq!((in_doc.name.as_str(), in_doc.capacity), ("Cleo", Some(12)));
    assert!(
        ws.channels.keys().all(|c| ws.is_subscribed(&in_doc.id, c)),
        "a new agent is signed up for every channel"
    );
    server.stop().await
}

#[tokio::test]
async fn bad_new_agents_are_refused_with_clear_errors() -> anyhow::Result<()> {
    let (_team, server, admin) = admin_at_work().await?;
    let post = |body: Value| send(admin.post(server.at("/api/agents")).json(&body));

    let taken = post(json!({ "name": "X", "email": "ana@ACME.test", "role": "agent" })).await?;
    assert_refused(&taken, "email_taken", "ana@acme.test");

    for (body, why) in [
        (
            json!({ "name": "X", "email": "not-an-email", "role": "agent" }),
            "bad email",
        ),
        (
            json!({ "name": "  ", "email": "x@acme.test", "role": "agent" }),
            "blank name",
        ),
        (
            json!({ "name": "X", "email": "x@acme.test", "role": "owner" }),
            "unknown role",
        ),
        (json!({ "name": "X", "email": "x@acme.test" }), "no role"),
        (
            json!({ "name": "X", "email": "x@acme.test", "role": "agent", "capacity": 0 }),
            "zero capacity",
        ),
        (
            json!({ "name": "X", "email": "x@acme.test", "role": "agent", "password": "mine" }),
            "unknown field",
        ),
    ] {
        let (status, body) = post(body).await?;
        assert_eq!(status, 400, "{why}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{why}");
    }
    server.stop().await
}

#[tokio::test]
async fn only_signed_in_admins_manage_the_team() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let ben_id = agent_id(&server, "ben@acme.test").await?;
    let ana = client();
    login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    let admin_token = baton_json(
        team.path(),
        &["token", "create", "--email", "admin@acme.test"],
    )
    .await?["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let signed_out = reqwest::Client::new();

    let calls: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            "/api/agents".into(),
            json!({ "name": "X", "email": "x@acme.test", "role": "admin" }),
        ),
        (
            "PATCH",
            format!("/api/agents/{ben_id}"),
            json!({ "role": "admin" }),
        ),
        (
            "POST",
            format!("/api/agents/{ben_id}/deactivate"),
            json!({}),
        ),
        ("POST", "/api/channels".into(), json!({ "name": "Sneaky" })),
        (
            "POST",
            format!("/api/channels/{}/secret", team.channel),
            json!({}),
        ),
    ];
    for (method, path, body) in &calls {
        let method: reqwest::Method = method.parse()?;
        let (status, _) = send(
            signed_out
                .request(method.clone(), server.at(path))
                .json(body),
        )
        .await?;
        assert_eq!(status, 401, "{method} {path} signed out");
        let (status, error) = send(ana.request(method.clone(), server.at(path)).json(body)).await?;
        assert_eq!(status, 403, "{method} {path} as an agent");
        assert_eq!(error["error"]["code"], "forbidden");
        let by_token = signed_out
            .request(method.clone(), server.at(path))
            .bearer_auth(&admin_token)
            .json(body);
        let (status, _) = send(by_token).await?;
        assert_eq!(status, 403, "{method} {path} with an admin's API token");
    }
    // Nothing of it happened.
    login(&server, &client(), "ben@acme.test", PASSWORD).await?;
    let secret_still_works = ingest(
        &server,
        &team.channel,
        &team.secret,
        json!({ "customer": { "email": "c@shop.example", "name": "C" }, "body": "hi" }),
    )
    .await?;
    assert_eq!(secret_still_works.status(), 201);
    server.stop().await
}

#[tokio::test]
async fn roles_capacity_and_names_change_and_reach_connected_apps() -> anyhow::Result<()> {
    let (_team, server, admin) = admin_at_work().await?;
    let ana_id = agent_id(&server, "ana@acme.test").await?;
    let ws_id = workspace_document(&server).await?;
    let mut watcher = connect(&server, "ben@acme.test").await?;
    watcher.open_all(&[ws_id]).await?;
    let patch = |changes: Value| edit_agent(&server, &admin, &ana_id, changes);

    let (status, body) = patch(json!({ "name": "Ana Lima", "capacity": 20 })).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (
            &body["agent"]["name"],
            &body["agent"]["capacity"],
            &body["agent"]["role"]
        ),
        (&json!("Ana Lima"), &json!(20), &json!("agent"))
    );
    let seen = |watcher: &SyncClient| {
        let ws = workspace::read(watcher.docs.doc(&ws_id).unwrap()).unwrap();
        let ana = ws.agent_by_email("ana@acme.test").unwrap().clone();
        (ana.name, ana.capacity, ana.role)
    };
    watcher
        .wait(WAIT, |w| {
            seen(w) == ("Ana Lima".to_owned(), Some(20), Role::Agent)
        })
        .await?;

    let (status, body) = patch(json!({ "role": "admin" })).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["agent"]["capacity"], 20,
        "an absent field stays as it was"
    );
    watcher.wait(WAIT, |w| seen(w).2 == Role::Admin).await?;
    let ana = client();
    let me = login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    assert_eq!(me["agent"]["role"], "admin");
    let (status, _) = send(
        ana.post(server.at("/api/channels"))
            .json(&json!({ "name": "Chat", "kind": "chat" })),
    )
    .await?;
    assert_eq!(status, 201, "the new admin has admin rights at once");

    let (status, body) = patch(json!({ "capacity": null })).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["agent"]["capacity"],
        Value::Null,
        "null removes the limit"
    );

    for (body, why) in [
        (json!({}), "nothing to change"),
        (json!({ "role": "owner" }), "unknown role"),
        (json!({ "capacity": -1 }), "negative capacity"),
        (json!({ "name": "" }), "empty name"),
        (json!({ "active": false }), "not a field"),
    ] {
        let (status, error) = patch(body).await?;
        assert_eq!(status, 400, "{why}: {error}");
    }
    for unknown in ["agt_nobody", "not-an-id"] {
        let (status, _) = edit_agent(&server, &admin, unknown, json!({ "name": "X" })).await?;
        assert_eq!(status, 404, "{unknown}");
    }
    server.stop().await
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_demoted_or_deactivated() -> anyhow::Result<()> {
    let (_team, server, admin) = admin_at_work().await?;
    let admin_id = agent_id(&server, "admin@acme.test").await?;
    let ana_id = agent_id(&server, "ana@acme.test").await?;

    let demote_self = || edit_agent(&server, &admin, &admin_id, json!({ "role": "agent" }));
    assert_refused(&demote_self().await?, "refused", "last active admin");
    let deactivate_self = admin.post(server.at(&format!("/api/agents/{admin_id}/deactivate")));
    assert_refused(&send(deactivate_self).await?, "refused", "your own account");

    // With a second admin, demoting oneself is fine; that admin cannot then
    // be deactivated by the (now) agent, nor demote themselves.
    let (status, _) = edit_agent(&server, &admin, &ana_id, json!({ "role": "admin" })).await?;
    assert_eq!(status, 200);
    let (status, body) = demote_self().await?;
    assert_eq!(status, 200, "{body}");
    let ana = client();
    login(&server, &ana, "ana@acme.test", PASSWORD).await?;
    let (status, body) = edit_agent(&server, &ana, &ana_id, json!({ "role": "agent" })).await?;
    assert_eq!(status, 409, "{body}");
    server.stop().await
}

#[tokio::test]
async fn deactivation_signs_the_agent_out_everywhere_and_closes_their_socket() -> anyhow::Result<()>
{
    let (_team, server, admin) = admin_at_work().await?;
    let admin_id = agent_id(&server, "admin@acme.test").await?;
    let ben_id = agent_id(&server, "ben@acme.test").await?;
    let ben = client();
    login(&server, &ben, "ben@acme.test", PASSWORD).await?;
    let mut ben_socket = connect(&server, "ben@acme.test").await?;

    // Nobody deactivates themselves.
    let deactivate_self = admin.post(server.at(&format!("/api/agents/{admin_id}/deactivate")));
    assert_refused(&send(deactivate_self).await?, "refused", "your own account");

    let (status, body) =
        send(admin.post(server.at(&format!("/api/agents/{ben_id}/deactivate")))).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["agent"]["active"], false);
    assert_eq!(body["unassigned"], 0);

    // Closed without Ben sending anything.
    ben_socket.wait(WAIT, |c| c.closed.is_some()).await?;
    assert_eq!(ben_socket.closed, Some(1008));
    assert_eq!(ben.get(server.at("/api/me")).send().await?.status(), 401);
    let relogin = reqwest::Client::new()
        .post(server.at("/api/login"))
        .json(&json!({ "email": "ben@acme.test", "password": PASSWORD }))
        .send()
        .await?;
    assert_eq!(relogin.status(), 401);
    let (status, body) =
        edit_agent(&server, &admin, &ben_id, json!({ "name": "Ben again" })).await?;
    assert_eq!(status, 409, "a deactivated agent is not edited: {body}");
    let (status, _) = send(admin.post(server.at("/api/agents/agt_nobody/deactivate"))).await?;
    assert_eq!(status, 404);
    server.stop().await
}

#[tokio::test]
async fn a_role_change_makes_the_agents_socket_reconnect_with_the_new_rights() -> anyhow::Result<()>
{
    let (_team, server, admin) = admin_at_work().await?;
    let ana_id = agent_id(&server, "ana@acme.test").await?;
    let mut ana_socket = connect(&server, "ana@acme.test").await?;
    let (status, _) = edit_agent(&server, &admin, &ana_id, json!({ "role": "admin" })).await?;
    assert_eq!(status, 200);
    ana_socket.wait(WAIT, |c| c.closed.is_some()).await?;
    assert_eq!(ana_socket.closed, Some(1012), "service restart: reconnect");
    connect(&server, "ana@acme.test").await?;
    server.stop().await
}

#[tokio::test]
async fn channels_are_added_and_their_secrets_rotate() -> anyhow::Result<()> {
    let (team, server, admin) = admin_at_work().await?;
    let message = json!({ "customer": { "email": "c@shop.example", "name": "C" }, "body": "hi" });

    let (status, added) = send(
        admin
            .post(server.at("/api/channels"))
            .json(&json!({ "name": "Web form" })),
    )
    .await?;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["channel"]["name"], "Web form");
    assert_eq!(added["channel"]["kind"], "email", "the default kind");
    let channel = added["channel"]["id"].as_str().unwrap().to_owned();
    let first = added["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        ingest(&server, &channel, &first, message.clone())
            .await?
            .status(),
        201
    );

    let rotate = admin.post(server.at(&format!("/api/channels/{channel}/secret")));
    let (status, rotated) = send(rotate).await?;
    assert_eq!(status, 200, "{rotated}");
    let second = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(
        ingest(&server, &channel, &first, message.clone())
            .await?
            .status(),
        403,
        "the old secret stops at once"
    );
    assert_eq!(
        ingest(&server, &channel, &second, message.clone())
            .await?
            .status(),
        201
    );
    let replies = reqwest::Client::new()
        .get(server.at(&format!("/api/channels/{channel}/replies")))
        .bearer_auth(&second)
        .send()
        .await?;
    assert_eq!(replies.status(), 200);
    // Other channels keep their secrets.
    assert_eq!(
        ingest(&server, &team.channel, &team.secret, message)
            .await?
            .status(),
        201
    );

    let mut watcher = connect(&server, "ben@acme.test").await?;
    let ws_id = workspace_document(&server).await?;
    watcher.open_all(&[ws_id]).await?;
    let ws = workspace::read(watcher.docs.doc(&ws_id).unwrap())?;
    let in_doc = ws.channels.get(&channel.parse()?).unwrap();
    assert_eq!(in_doc.name, "Web form");
    let ben = ws.agent_by_email("ben@acme.test").unwrap();
    assert!(
        ws.is_subscribed(&ben.id, &in_doc.id),
        "every agent is signed up"
    );

    for (body, why) in [
        (json!({ "name": "" }), "empty name"),
        (json!({ "name": "X", "kind": "" }), "empty kind"),
        (json!({ "name": "X", "secret": "mine" }), "unknown field"),
    ] {
        let (status, error) = send(admin.post(server.at("/api/channels")).json(&body)).await?;
        assert_eq!(status, 400, "{why}: {error}");
    }
    let (status, _) = send(admin.post(server.at("/api/channels/chn_nope/secret"))).await?;
    assert_eq!(status, 404);
    server.stop().await
}
