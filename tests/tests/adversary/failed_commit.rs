//! F9: a commit that fails. Nothing of the change may stay behind in the
//! server's memory (to be served to others, or to hide the change's reply
//! and notifications from the retry); the retry writes them exactly once.

use baton_shared::operations::ReplyMode;

use crate::scene::{Scene, document, id_of, workspace_of};

#[tokio::test]
async fn a_reply_whose_commit_failed_is_delivered_once_when_it_is_sent_again() -> anyhow::Result<()>
{
    let scene = Scene::with(&[], &[("BATON_FAULT_FAIL_COMMITS", "reply:1")]).await?;
    let doc = document(&scene.conversation("dana").await?);
    let (mut ana, mut ben) = scene.ana_and_ben_holding(doc).await?;
    let ws = workspace_of(&ana, &scene);
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    ana.reply_now(doc, &ws, &ana_id, "Hello Dana", ReplyMode::Claim)?;
    // The first commit fails; the server asks again and the second holds.
    ana.settle(doc).await?;
    ben.wait_for_messages(doc, 2).await?;
    let bodies = scene.delivered_replies().await?;
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
    ana.reassign_now(doc, &ws, &ana_id, &ben_id)?;
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
