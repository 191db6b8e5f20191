//! F13: credentials that end (sign-out, expiry, revocation) must end the
//! sockets they opened; integrations' tokens can be listed and revoked one
//! at a time; admins change the team only through its API.

use std::time::Duration;

use baton_shared::model::Role;
use baton_shared::workspace;
use baton_tests::sync_client::{Auth, SyncClient, open_socket};
use baton_tests::{PASSWORD, baton_json, session_token};

use crate::scene::{Scene, WAIT, change_of, expect_refused, id_of, workspace_of};

#[tokio::test]
async fn signing_out_closes_that_sessions_sockets_and_only_those() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let client = baton_tests::client();
    baton_tests::login(&scene.server, &client, "ana@acme.test", PASSWORD).await?;
    let cookie = {
        // The session behind `client`'s cookie, for a socket of its own.
        let response = reqwest::Client::new()
            .post(scene.server.at("/api/login"))
            .json(&serde_json::json!({"email": "ana@acme.test", "password": PASSWORD}))
            .send()
            .await?;
        let raw = response.headers()["set-cookie"].to_str()?.to_owned();
        raw.split(';').next().unwrap().to_owned()
    };
    let token = cookie.trim_start_matches("baton_session=").to_owned();
    let mut this_tab =
        SyncClient::connect(&scene.server.url, &Auth::Session(token.clone())).await?;
    let mut other_tab = scene.agent("ana@acme.test").await?;
    let out = reqwest::Client::new()
        .post(scene.server.at("/api/logout"))
        .header("cookie", &cookie)
        .send()
        .await?;
    assert_eq!(out.status(), 204);
    let _ = this_tab.wait(WAIT, |_| false).await;
    assert_eq!(this_tab.closed, Some(1008));
    other_tab.idle(Duration::from_millis(300)).await?;
    assert_eq!(
        open_socket(&scene.server.url, &Auth::Session(token), None)
            .await
            .err(),
        Some(401)
    );
    Ok(())
}

#[tokio::test]
async fn a_token_revoked_from_the_command_line_closes_its_socket() -> anyhow::Result<()> {
    let scene = Scene::with(&["--heartbeat-seconds", "1"], &[]).await?;
    let created = baton_json(
        scene.team.path(),
        &[
            "token",
            "create",
            "--email",
            "ana@acme.test",
            "--expires-in-days",
            "30",
        ],
    )
    .await?;
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created["expires_at"].as_i64().is_some());
    let mut integration =
        SyncClient::connect(&scene.server.url, &Auth::Token(token.clone())).await?;
    let listed = baton_json(
        scene.team.path(),
        &["token", "list", "--email", "ana@acme.test"],
    )
    .await?;
    assert_eq!(listed["tokens"][0]["id"], id.as_str());
    assert!(
        !listed.to_string().contains(&token),
        "the token itself is never listed"
    );
    baton_json(scene.team.path(), &["token", "revoke", "--id", &id]).await?;
    let _ = integration.wait(WAIT, |_| false).await;
    assert_eq!(integration.closed, Some(1008));
    assert_eq!(
        open_socket(&scene.server.url, &Auth::Token(token), None)
            .await
            .err(),
        Some(401)
    );
    Ok(())
}

#[tokio::test]
async fn an_admin_changes_agents_only_through_the_team_api() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let ws = scene.workspace;
    let mut admin = scene.agent("admin@acme.test").await?;
    let admin_id = id_of(&admin, &scene, "admin@acme.test");
    let mut demoted = workspace_of(&admin, &scene)
        .agent(&admin_id)
        .unwrap()
        .clone();
    demoted.role = Role::Agent;
    let forged = change_of(&mut admin, ws, |d| {
        workspace::put_agent(d, &demoted, baton_shared::clock::now()).unwrap();
    });
    // Over the socket this would leave no admin and the sign-in table
    // saying otherwise.
    expect_refused(&scene, &mut admin, ws, &[&forged], "api_only").await?;
    Ok(())
}

#[tokio::test]
async fn a_password_read_from_standard_input_stays_out_of_the_process_list() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let database = baton_tests::postgres::database_args(scene.team.path()).await?;
    let mut child = tokio::process::Command::new(baton_tests::baton_binary())
        .arg("--data")
        .arg(scene.team.path())
        .args(database)
        .args([
            "agent",
            "add",
            "--email",
            "cy@acme.test",
            "--name",
            "Cy",
            "--password",
            "-",
            "--json",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    use tokio::io::AsyncWriteExt;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"staple-battery\n")
        .await?;
    assert!(child.wait_with_output().await?.status.success());
    session_token(&scene.server, "cy@acme.test", "staple-battery").await?;
    Ok(())
}

#[tokio::test]
async fn a_reply_position_past_every_sequence_lists_nothing() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let doc = crate::scene::document(&scene.conversation("dana").await?);
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let ws = workspace_of(&ana, &scene);
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    baton_shared::operations::reply(
        ana.docs.doc_mut(&doc).unwrap(),
        &ws,
        &ana_id,
        "Hello",
        baton_shared::operations::ReplyMode::Claim,
        baton_shared::clock::now(),
    )?;
    ana.settle(doc).await?;
    let far = reqwest::Client::new()
        .get(scene.server.at(&format!(
            "/api/channels/{}/replies?after={}",
            scene.team.channel,
            u64::MAX
        )))
        .bearer_auth(&scene.team.secret)
        .send()
        .await?;
    assert_eq!(far.status(), 200);
    let body: serde_json::Value = far.json().await?;
    assert_eq!(body["replies"].as_array().map(Vec::len), Some(0));
    Ok(())
}
