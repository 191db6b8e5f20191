//! F8: stale dependencies and a backdated `at`. An agent online the whole
//! time could claim a conversation someone else had already claimed, or
//! reply where only the assignee may, by pretending to have worked offline.
//! An agent who really was offline keeps the claims they made first.

use baton_shared::model::Settings;
use baton_shared::operations::{ReplyMode, reply};
use baton_shared::workspace;

use std::time::Duration;

use crate::scene::{Scene, WAIT, change_at, document, id_of, refusal, send_changes, workspace_of};

/// The server judges timestamps with every window a hundredth of its
/// length: what takes minutes in use takes a second here.
async fn scene() -> anyhow::Result<Scene> {
    Scene::with(&[], &[("BATON_TEST_TIME_SCALE", "100")]).await
}

async fn pause(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[tokio::test]
async fn an_agent_online_all_along_cannot_stamp_a_claim_into_the_past() -> anyhow::Result<()> {
    let scene = scene().await?;
    let landed = scene.conversation("dana").await?;
    let doc = document(&landed);
    let (mut ana, mut ben) = scene.ana_and_ben_holding(doc).await?;
    let created = ana.docs.doc_mut(&doc).unwrap().get_heads();
    let ws = workspace_of(&ben, &scene);
    let (ana_id, ben_id) = (
        id_of(&ana, &scene, "ana@acme.test"),
        id_of(&ben, &scene, "ben@acme.test"),
    );
    // A moment while Ana is surely online; Ben claims after it.
    pause(400).await;
    let earlier = baton_shared::clock::now();
    pause(300).await;
    ben.reply_now(doc, &ws, &ben_id, "Ben here", ReplyMode::Claim)?;
    ben.settle(doc).await?;
    // Ana, connected the whole time, claims "before" Ben, on the document
    // as it was then, stamped with that moment.
    pause(700).await;
    let stale = change_at(&mut ana, doc, &created, |d| {
        reply(d, &ws, &ana_id, "Ana first!", ReplyMode::Claim, earlier).unwrap();
    });
    send_changes(&mut ana, doc, &[&stale]).await?;
    assert_eq!(refusal(&mut ana, doc).await?, "backdated");
    // Stamped now, on the old document, it is a claim of a claimed one.
    ana.docs.reload(doc);
    let complete = |c: &baton_tests::sync_client::SyncClient| {
        c.docs
            .doc(&doc)
            .is_some_and(|d| d.clone().get_missing_deps(&created).is_empty())
    };
    ana.wait(WAIT, complete).await?;
    let stale = change_at(&mut ana, doc, &created, |d| {
        let now = baton_shared::clock::now();
        reply(d, &ws, &ana_id, "Ana first!", ReplyMode::Claim, now).unwrap();
    });
    send_changes(&mut ana, doc, &[&stale]).await?;
    assert_eq!(refusal(&mut ana, doc).await?, "already_assigned");
    assert_eq!(
        baton_tests::assignee_on_server(&scene.server, &landed.conversation).await?,
        Some(ben_id.to_string())
    );
    let bens =
        baton_tests::notifications_about(&scene.server, "ben@acme.test", &landed.document).await?;
    assert!(
        bens.iter()
            .all(|n| n["kind"] != "moved_away" && n["kind"] != "lost"),
        "Ben was told nothing: {bens:?}"
    );
    Ok(())
}

#[tokio::test]
async fn stale_dependencies_do_not_reopen_what_only_the_assignee_may_answer() -> anyhow::Result<()>
{
    let scene = scene().await?;
    let ws_id = scene.workspace;
    let landed = scene.conversation("dana").await?;
    let doc = document(&landed);
    let mut admin = scene.agent("admin@acme.test").await?;
    let mut ana = scene.agent("ana@acme.test").await?;
    let mut ben = scene.agent("ben@acme.test").await?;
    pause(300).await;
    let settings = Settings {
        only_assignee_replies: true,
        ..workspace_of(&admin, &scene).settings
    };
    workspace::put_settings(
        admin.docs.doc_mut(&ws_id).unwrap(),
        &settings,
        baton_shared::clock::now(),
    )?;
    admin.settle(ws_id).await?;
    ana.open_all(&[doc]).await?;
    ben.open_all(&[doc]).await?;
    ana.wait(WAIT, |c| {
        workspace_of(c, &scene).settings.only_assignee_replies
    })
    .await?;
    let created = ana.docs.doc_mut(&doc).unwrap().get_heads();
    let ws = workspace_of(&ana, &scene);
    let (ana_id, ben_id) = (
        id_of(&ana, &scene, "ana@acme.test"),
        id_of(&ben, &scene, "ben@acme.test"),
    );
    ben.reply_now(doc, &ws, &ben_id, "Mine", ReplyMode::Claim)?;
    ben.settle(doc).await?;
    // Ana replies now, on the document as it was before Ben's claim.
    let stale = change_at(&mut ana, doc, &created, |d| {
        let mode = ReplyMode::LeaveUnassigned;
        reply(d, &ws, &ana_id, "Me too", mode, baton_shared::clock::now()).unwrap();
    });
    send_changes(&mut ana, doc, &[&stale]).await?;
    assert_eq!(refusal(&mut ana, doc).await?, "not_assignee");
    Ok(())
}

#[tokio::test]
async fn a_claim_made_offline_first_still_wins() -> anyhow::Result<()> {
    let scene = scene().await?;
    let landed = scene.conversation("dana").await?;
    let doc = document(&landed);
    let (ana, mut ben) = scene.ana_and_ben_holding(doc).await?;
    let ws = workspace_of(&ana, &scene);
    let (ana_id, ben_id) = (
        id_of(&ana, &scene, "ana@acme.test"),
        id_of(&ben, &scene, "ben@acme.test"),
    );
    // Ana goes offline and replies first; Ben, online, replies after.
    let mut offline = ana.disconnect().await;
    reply(
        offline.doc_mut(&doc).unwrap(),
        &ws,
        &ana_id,
        "Ana, offline",
        ReplyMode::Claim,
        baton_shared::clock::now(),
    )?;
    pause(50).await;
    ben.reply_now(doc, &ws, &ben_id, "Ben, online", ReplyMode::Claim)?;
    ben.settle(doc).await?;
    pause(300).await;
    // Back online, Ana's earlier claim holds, and Ben is told.
    let mut ana = scene.back_online("ana@acme.test", offline).await?;
    ana.settle(doc).await?;
    assert!(ana.refusals().is_empty(), "{:?}", ana.refusals());
    let deadline = std::time::Instant::now() + WAIT;
    while baton_tests::assignee_on_server(&scene.server, &landed.conversation).await?
        != Some(ana_id.to_string())
    {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "Ana's claim did not win"
        );
        pause(50).await;
    }
    let bens =
        baton_tests::notifications_about(&scene.server, "ben@acme.test", &landed.document).await?;
    assert!(bens.iter().any(|n| n["kind"] == "moved_away"), "{bens:?}");
    Ok(())
}

#[tokio::test]
async fn offline_work_held_back_long_after_reconnecting_is_backdated() -> anyhow::Result<()> {
    let scene = scene().await?;
    let doc = document(&scene.conversation("dana").await?);
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let ws = workspace_of(&ana, &scene);
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    let heads = ana.docs.doc_mut(&doc).unwrap().get_heads();
    let offline = ana.disconnect().await;
    pause(100).await;
    let in_gap = baton_shared::clock::now();
    pause(100).await;
    let held_back = {
        let mut scratch = scene.back_online("ana@acme.test", offline).await?;
        // Made in the gap, sent only after the replay window has passed.
        let change = change_at(&mut scratch, doc, &heads, |d| {
            reply(d, &ws, &ana_id, "late", ReplyMode::Claim, in_gap).unwrap();
        });
        pause(3_500).await;
        send_changes(&mut scratch, doc, &[&change]).await?;
        refusal(&mut scratch, doc).await?
    };
    assert_eq!(held_back, "backdated");
    Ok(())
}
