//! Workflows end to end: an admin writes one into the workspace document over
//! live sync, customer messages arrive over HTTP ingest, and the real server
//! assigns, tells, logs, refuses non-admins, and yields to a person.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use baton_shared::conversation::read;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::{Author, By, MessageKind};
use baton_shared::operations::{assign, reopen, resolve};
use baton_shared::workflow::{Condition, Step, Trigger, Workflow};
use baton_shared::workspace::{self, Workspace};
use baton_tests::sync_client::{Auth, SyncClient};
use baton_tests::{
    PASSWORD, Server, Team, baton_json, client, ingest, login, session_token, workspace_document,
};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

async fn connect(server: &Server, email: &str) -> anyhow::Result<SyncClient> {
    let token = session_token(server, email, PASSWORD).await?;
    SyncClient::connect(&server.url, &Auth::Session(token)).await
}

/// Signs in and opens the workspace document; returns it read.
async fn with_workspace(
    server: &Server,
    email: &str,
) -> anyhow::Result<(SyncClient, DocumentId, Workspace)> {
    let ws_id = workspace_document(server).await?;
    let mut c = connect(server, email).await?;
    c.open_all(&[ws_id]).await?;
    let ws = workspace::read(c.docs.doc(&ws_id).unwrap())?;
    Ok((c, ws_id, ws))
}

/// Saves `workflow` as `c` and waits for the server to take (or refuse) it.
async fn save(c: &mut SyncClient, ws_id: DocumentId, workflow: &Workflow) -> anyhow::Result<()> {
    let now = baton_shared::clock::now();
    workspace::put_workflow(c.docs.doc_mut(&ws_id).unwrap(), workflow, now)?;
    c.docs.sync(ws_id);
    c.settle(ws_id).await
}

fn id_of(ws: &Workspace, email: &str) -> AgentId {
    ws.agent_by_email(email).unwrap().id.clone()
}

async fn get(email: &str, server: &Server, path: &str) -> anyhow::Result<(u16, Value)> {
    let agent = client();
    login(server, &agent, email, PASSWORD).await?;
    let response = agent.get(server.at(path)).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

fn message(body: &str) -> Value {
    json!({ "customer": { "email": "dana@shop.example", "name": "Dana" }, "subject": "Refund", "body": body })
}

#[tokio::test]
async fn an_assign_workflow_assigns_ingested_messages_and_tells_only_the_chosen_agent()
-> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let (mut admin, ws_id, ws) = with_workspace(&server, "admin@acme.test").await?;
    let ben = id_of(&ws, "ben@acme.test");
    let mut workflow = Workflow::new("Email to Ben", Trigger::CustomerMessage, &ws);
    workflow.conditions = vec![Condition::ChannelIn {
        channels: vec![team.channel.parse()?],
    }];
    workflow.steps = vec![Step::Assign { agent: ben.clone() }];
    save(&mut admin, ws_id, &workflow).await?;
    assert!(admin.refusals().is_empty(), "{:?}", admin.refusals());

    let landed = ingest(
        &server,
        &team.channel,
        &team.secret,
        message("I was charged twice"),
    )
    .await?;
    assert_eq!(landed.status(), 201);
    let landed: Value = landed.json().await?;

    let (_, mine) = get("ben@acme.test", &server, "/api/conversations?view=mine").await?;
    let rows = mine["conversations"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], landed["conversation"]);
    assert_eq!(rows[0]["assignee"], ben.as_str());

    // Ben alone is told, that the workflow assigned it to him.
    let (_, told) = get("ben@acme.test", &server, "/api/notifications").await?;
    assert_eq!(told["unread"], 1);
    assert_eq!(
        told["notifications"][0]["text"],
        "Workflow “Email to Ben” assigned you “Refund”"
    );
    for email in ["ana@acme.test", "admin@acme.test"] {
        let (_, told) = get(email, &server, "/api/notifications").await?;
        assert_eq!(told["unread"], 0, "{email}: {told}");
    }

    // The conversation says which workflow did it.
    admin
        .open_all(&[landed["document"].as_str().unwrap().parse()?])
        .await?;
    let doc: DocumentId = landed["document"].as_str().unwrap().parse()?;
    let conversation = read(admin.docs.doc(&doc).unwrap())?;
    assert_eq!(
        conversation.activity.last().unwrap().by,
        By::Workflow(workflow.id.clone())
    );

    // The run log names the workflow, the conversation and what it did.
    let (status, log) = get("admin@acme.test", &server, "/api/workflows/runs?limit=10").await?;
    assert_eq!(status, 200, "{log}");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{log}");
    assert_eq!(runs[0]["workflow"]["name"], "Email to Ben");
    assert_eq!(runs[0]["conversation"], landed["conversation"]);
    assert_eq!(runs[0]["event"], "customer_message");
    assert_eq!(runs[0]["outcome"], "ran");
    assert_eq!(runs[0]["detail"], "Assigned to Ben");

    // Agents and integration tokens (even an admin's) may not read it.
    let (status, body) = get("ana@acme.test", &server, "/api/workflows/runs").await?;
    assert_eq!(status, 403, "{body}");
    let token = baton_json(
        team.path(),
        &["token", "create", "--email", "admin@acme.test"],
    )
    .await?;
    let response = reqwest::Client::new()
        .get(server.at("/api/workflows/runs"))
        .bearer_auth(token["token"].as_str().unwrap())
        .send()
        .await?;
    assert_eq!(response.status(), 403);
    let (status, _) = get("admin@acme.test", &server, "/api/workflows/runs?limit=0").await?;
    assert_eq!(status, 400);
    server.stop().await
}

#[tokio::test]
async fn an_agent_cannot_change_workflows_and_a_refused_one_never_runs() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let (mut ana, ws_id, ws) = with_workspace(&server, "ana@acme.test").await?;
    let mut workflow = Workflow::new("All mine", Trigger::ConversationCreated, &ws);
    workflow.steps = vec![Step::Assign {
        agent: id_of(&ws, "ana@acme.test"),
    }];
    save(&mut ana, ws_id, &workflow).await?;
    ana.wait(WAIT, |c| {
        c.refusals()
            .iter()
            .any(|(doc, code)| *doc == Some(ws_id) && code == "admin_only")
    })
    .await?;

    let (_, _, fresh) = with_workspace(&server, "admin@acme.test").await?;
    assert!(fresh.workflows.is_empty(), "nothing of it was stored");
    let landed = ingest(&server, &team.channel, &team.secret, message("Hello")).await?;
    assert_eq!(landed.status(), 201);
    let (_, unassigned) = get(
        "ana@acme.test",
        &server,
        "/api/conversations?view=unassigned",
    )
    .await?;
    assert_eq!(unassigned["counts"]["unassigned"], 1);
    let (_, log) = get("admin@acme.test", &server, "/api/workflows/runs").await?;
    assert_eq!(log["runs"], json!([]));
    server.stop().await
}

#[tokio::test]
async fn a_manual_reassign_made_offline_beats_the_workflow_that_ran_meanwhile() -> anyhow::Result<()>
{
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let landed: Value = ingest(&server, &team.channel, &team.secret, message("Hi"))
        .await?
        .json()
        .await?;
    let doc: DocumentId = landed["document"].as_str().unwrap().parse()?;
    let (mut ben, ws_id, ws) = with_workspace(&server, "ben@acme.test").await?;
    let (ana_id, ben_id) = (id_of(&ws, "ana@acme.test"), id_of(&ws, "ben@acme.test"));
    ben.open_all(&[doc]).await?;

    // Ben, offline, takes the conversation himself.
    let mut offline = ben.disconnect().await;
    let now = baton_shared::clock::now();
    let by = By::Agent(ben_id.clone());
    assign(
        offline.doc_mut(&doc).unwrap(),
        &ws,
        &by,
        Some(&ben_id),
        None,
        now,
    )?;

    // Meanwhile an admin adds a workflow and the customer writes again: the
    // server, which still sees it unassigned, gives it to Ana.
    let (mut admin, _, ws) = with_workspace(&server, "admin@acme.test").await?;
    let mut workflow = Workflow::new("To Ana", Trigger::CustomerMessage, &ws);
    workflow.steps = vec![Step::Assign {
        agent: ana_id.clone(),
    }];
    save(&mut admin, ws_id, &workflow).await?;
    let mut again = message("Anyone?");
    again["conversation"] = landed["conversation"].clone();
    assert_eq!(
        ingest(&server, &team.channel, &team.secret, again)
            .await?
            .status(),
        201
    );
    let (_, all) = get("ana@acme.test", &server, "/api/conversations").await?;
    assert_eq!(all["conversations"][0]["assignee"], ana_id.as_str());

    // Ben comes back: his decision wins, and stays.
    let token = session_token(&server, "ben@acme.test", PASSWORD).await?;
    let mut ben = SyncClient::reconnect(&server.url, &Auth::Session(token), offline).await?;
    ben.docs.sync_all();
    ben.wait(WAIT, |c| {
        c.docs
            .doc(&doc)
            .and_then(|d| read(d).ok())
            .is_some_and(|conv| conv.assignments.len() == 1 && conv.messages.len() == 2)
    })
    .await?;
    assert_eq!(read(ben.docs.doc(&doc).unwrap())?.assignee(), Some(&ben_id));
    let (_, all) = get("ana@acme.test", &server, "/api/conversations").await?;
    assert_eq!(all["conversations"][0]["assignee"], ben_id.as_str());
    server.stop().await
}

#[tokio::test]
async fn an_agent_reopening_a_conversation_fires_reopen_workflows() -> anyhow::Result<()> {
    let team = Team::new().await?;
    let server = Server::start(team.path(), &[]).await?;
    let (mut admin, ws_id, ws) = with_workspace(&server, "admin@acme.test").await?;
    let mut workflow = Workflow::new("Reopened", Trigger::ConversationReopened, &ws);
    workflow.steps = vec![Step::Note {
        body: "Reopened: check the earlier answer".to_owned(),
    }];
    save(&mut admin, ws_id, &workflow).await?;
    let landed: Value = ingest(&server, &team.channel, &team.secret, message("Hi"))
        .await?
        .json()
        .await?;
    let doc: DocumentId = landed["document"].as_str().unwrap().parse()?;
    let mut ana = connect(&server, "ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let by = By::Agent(id_of(&ws, "ana@acme.test"));
    let now = baton_shared::clock::now();
    resolve(ana.docs.doc_mut(&doc).unwrap(), &by, now)?;
    reopen(ana.docs.doc_mut(&doc).unwrap(), &by, now + 1)?;
    ana.docs.sync(doc);
    ana.wait(WAIT, |c| {
        c.docs
            .doc(&doc)
            .and_then(|d| read(d).ok())
            .is_some_and(|conv| {
                conv.messages
                    .iter()
                    .any(|m| m.kind == MessageKind::Note && m.author == Author::System)
            })
    })
    .await?;
    let (_, log) = get("admin@acme.test", &server, "/api/workflows/runs").await?;
    assert_eq!(log["runs"][0]["event"], "conversation_reopened");
    assert_eq!(log["runs"][0]["detail"], "Added an internal note");
    server.stop().await
}
