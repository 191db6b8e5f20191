//! F4: an object replaced by an identical copy. The copy reads the same,
//! but every change made concurrently against the original is orphaned:
//! another agent's reply would be acknowledged and never seen, nor sent.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, Value};
use baton_shared::operations::{ReplyMode, reply};

use crate::scene::{Scene, change_of, document, expect_refused, id_of, send_changes, workspace_of};

/// Replaces the list at `key` with an identical copy, in one change.
fn copy_list(d: &mut AutoCommit, key: &str) {
    let Some((Value::Object(ObjType::List), old)) = d.get(ROOT, key).unwrap() else {
        panic!("{key}");
    };
    let copy = d.hydrate(&old, None).unwrap();
    d.batch_create_object(ROOT, key, &copy, false).unwrap();
}

#[tokio::test]
async fn replacing_messages_or_activity_with_a_copy_is_refused_and_no_reply_is_lost()
-> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let landed = scene.conversation("dana").await?;
    let doc = document(&landed);
    let (mut ana, mut ben) = scene.ana_and_ben_holding(doc).await?;
    let ben_id = id_of(&ben, &scene, "ben@acme.test");
    let ws = workspace_of(&ben, &scene);
    // Ben replies offline, against the messages list as it is.
    let bens = change_of(&mut ben, doc, |d| {
        let mode = ReplyMode::LeaveUnassigned;
        reply(
            d,
            &ws,
            &ben_id,
            "We are on it",
            mode,
            baton_shared::clock::now(),
        )
        .unwrap();
    });
    for key in ["messages", "activity"] {
        let forged = change_of(&mut ana, doc, |d| copy_list(d, key));
        expect_refused(&scene, &mut ana, doc, &[&forged], "replaces_existing").await?;
    }
    // Ben comes back: his reply is in the thread and goes to the customer.
    send_changes(&mut ben, doc, &[&bens]).await?;
    ben.docs.reload(doc);
    ben.wait_for_messages(doc, 2).await?;
    assert_eq!(scene.delivered_replies().await?, ["We are on it"]);
    Ok(())
}

#[tokio::test]
async fn the_workspace_maps_are_never_replaced() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let ws = scene.workspace;
    let mut admin = scene.agent("admin@acme.test").await?;
    let mut ana = scene.agent("ana@acme.test").await?;
    let forged = change_of(&mut admin, ws, |d| {
        d.put_object(ROOT, "workflows", ObjType::Map).unwrap();
    });
    expect_refused(&scene, &mut admin, ws, &[&forged], "replaces_existing").await?;
    for key in ["agents", "channels", "subscriptions"] {
        let forged = change_of(&mut ana, ws, |d| {
            d.put_object(ROOT, key, ObjType::Map).unwrap();
        });
        expect_refused(&scene, &mut ana, ws, &[&forged], "admin_only").await?;
    }
    Ok(())
}
