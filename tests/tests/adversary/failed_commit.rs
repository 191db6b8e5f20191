//! F9: a commit that fails. Nothing of the change may stay behind in the
//! server's memory (to be served to others, or to hide the change's reply
//! and notifications from the retry); the retry writes them exactly once.

use baton_shared::conversation::read;
use baton_shared::model::By;
use baton_shared::operations::{ReplyMode, assign, reply};

use crate::scene::{Scene, WAIT, document, id_of, workspace_of};

#[tokio::test]
async fn a_reply_whose_commit_failed_is_delivered_once_when_it_is_sent_again() -> anyhow::Result<()>
{
    let scene = Scene::with(&[], &[("BATON_FAULT_FAIL_COMMITS", "reply:1")]).await?;
    let doc = document(&scene.conversation("dana").await?);
    let mut ana = scene.agent("ana@acme.test").await?;
    let mut ben = scene.agent("ben@acme.test").await?;
    ana.open_all(&[doc]).await?;
    ben.open_all(&[doc]).await?;
    let ws = workspace_of(&ana, &scene);
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    reply(
        ana.docs.doc_mut(&doc).unwrap(),
        &ws,
        &ana_id,
        "Hello Dana",
        ReplyMode::Claim,
        baton_shared::clock::now(),
    )?;
    // The first commit fails; the server asks again and the second holds.
    ana.settle(doc).await?;
    ben.wait(WAIT, |c| {
        c.docs
            .doc(&doc)
            .and_then(|d| read(d).ok())
            .is_some_and(|c| c.messages.len() == 2)
    })
    .await?;
    let replies: serde_json::Value = reqwest::Client::new()
        .get(scene.server.at(&format!(
            "/api/channels/{}/replies?after=0",
            scene.team.channel
        )))
        .bearer_auth(&scene.team.secret)
        .send()
        .await?
        .json()
        .await?;
    let bodies: Vec<&str> = replies["replies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["body"].as_str())
        .collect();
    assert_eq!(bodies, ["Hello Dana"], "delivered, and once");
    let stored = scene.stored_conversation(doc).await?;
    assert_eq!(stored.assignee(), Some(&ana_id));
    Ok(())
}

#[tokio::test]
async fn an_assignment_whose_commit_failed_tells_its_assignee_once() -> anyhow::Result<()> {
    let scene = Scene::with(&[], &[("BATON_FAULT_FAIL_COMMITS", "assignment:1")]).await?;
    let landed = scene.conversation("dana").await?;
    let doc = document(&landed);
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let ws = workspace_of(&ana, &scene);
    let (ana_id, ben_id) = (
        id_of(&ana, &scene, "ana@acme.test"),
        id_of(&ana, &scene, "ben@acme.test"),
    );
    assign(
        ana.docs.doc_mut(&doc).unwrap(),
        &ws,
        &By::Agent(ana_id),
        Some(&ben_id),
        None,
        baton_shared::clock::now(),
    )?;
    ana.settle(doc).await?;
    let told =
        baton_tests::notifications_about(&scene.server, "ben@acme.test", &landed.document).await?;
    let assigned: Vec<_> = told
        .iter()
        .filter(|n| n["kind"] == "assigned_to_you")
        .collect();
    assert_eq!(assigned.len(), 1, "{told:?}");
    Ok(())
}
