//! F13: actor ids and message ids chosen by clients. An actor is bound only
//! to a principal whose change was accepted; a message id another
//! conversation uses suppresses no reply.

use automerge::{ActorId, Change};
use baton_shared::operations::{ReplyMode, note, reply};

use crate::scene::{Scene, WAIT, document, id_of, refusal, send_changes, workspace_of};

#[tokio::test]
async fn a_refused_change_binds_no_actor() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let doc = document(&scene.conversation("dana").await?);
    let (mut ana, mut ben) = scene.ana_and_ben_holding(doc).await?;
    let ws = workspace_of(&ana, &scene);
    let (ana_id, ben_id) = (
        id_of(&ana, &scene, "ana@acme.test"),
        id_of(&ben, &scene, "ben@acme.test"),
    );
    let squatted = ActorId::random();
    // One message: an honest note of Ana's, then a change from a fresh
    // actor forging Ben's authorship. The first is taken, the second not.
    let (honest, forged): (Change, Change) = {
        let held = ana.docs.doc_mut(&doc).unwrap();
        let mut copy = held.fork();
        note(&mut copy, &ws, &ana_id, "mine", baton_shared::clock::now()).unwrap();
        let honest = copy.get_last_local_change().unwrap();
        let mut copy = copy.with_actor(squatted.clone());
        note(
            &mut copy,
            &ws,
            &ben_id,
            "as Ben",
            baton_shared::clock::now(),
        )
        .unwrap();
        (honest, copy.get_last_local_change().unwrap())
    };
    send_changes(&mut ana, doc, &[&honest, &forged]).await?;
    assert_eq!(refusal(&mut ana, doc).await?, "forged_author");
    // The actor is still free: Ben's own change from it is his.
    let held = ben.docs.doc_mut(&doc).unwrap();
    held.set_actor(squatted);
    note(held, &ws, &ben_id, "mine", baton_shared::clock::now())?;
    ben.settle(doc).await?;
    assert!(ben.refusals().is_empty(), "{:?}", ben.refusals());
    Ok(())
}

#[tokio::test]
async fn a_message_id_used_in_another_conversation_suppresses_no_reply() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let one = document(&scene.conversation("dana").await?);
    let two = document(&scene.conversation("eve").await?);
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&[one, two]).await?;
    let ws = workspace_of(&ana, &scene);
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    let (now, mode) = (baton_shared::clock::now(), ReplyMode::LeaveUnassigned);
    let first = reply(
        ana.docs.doc_mut(&one).unwrap(),
        &ws,
        &ana_id,
        "First",
        mode,
        now,
    )?;
    ana.settle(one).await?;
    // The same message id, written by hand, in the other conversation.
    reply(
        ana.docs.doc_mut(&two).unwrap(),
        &ws,
        &ana_id,
        "Second",
        mode,
        now,
    )?;
    let doc = ana.docs.doc_mut(&two).unwrap();
    let renamed = {
        let change = doc.get_last_local_change().unwrap();
        crate::scene::reencode(&change, |c| {
            for op in &mut c.operations {
                if let automerge::legacy::OpType::Put(automerge::ScalarValue::Str(text)) =
                    &mut op.action
                    && text.starts_with("msg_")
                {
                    *text = first.message.as_str().into();
                }
            }
        })
    };
    ana.docs.reload(two);
    ana.wait(WAIT, |c| c.docs.doc(&two).is_some()).await?;
    send_changes(&mut ana, two, &[&renamed]).await?;
    ana.docs.reload(two);
    ana.wait_for_messages(two, 2).await?;
    assert_eq!(scene.delivered_replies().await?, ["First", "Second"]);
    Ok(())
}
