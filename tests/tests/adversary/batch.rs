//! F3: an activity entry's `batch` of any size, copied into a notification
//! for every subscriber and held in every socket's memory.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use baton_shared::ids::AgentId;
use baton_shared::model::By;
use baton_shared::operations::assign;

use crate::scene::{Scene, change_of, document, expect_refused, id_of, workspace_of};

/// An unassign written by hand, as the app writes one, with `batch`.
fn unassign_in_batch(d: &mut AutoCommit, by: &AgentId, previous: &AgentId, batch: &str, at: i64) {
    let assignee = d.put_object(ROOT, "assignee", ObjType::Map).unwrap();
    d.put(&assignee, "agent", ScalarValue::Null).unwrap();
    d.put(&assignee, "kind", "manual").unwrap();
    d.put(&assignee, "by", by.as_str()).unwrap();
    d.put(&assignee, "at", at).unwrap();
    let Some((Value::Object(ObjType::List), activity)) = d.get(ROOT, "activity").unwrap() else {
        panic!("no activity trail");
    };
    let entry = d
        .insert_object(&activity, d.length(&activity), ObjType::Map)
        .unwrap();
    d.put(&entry, "at", at).unwrap();
    d.put(&entry, "by", by.as_str()).unwrap();
    d.put(&entry, "event", "unassigned").unwrap();
    d.put(&entry, "previous", previous.as_str()).unwrap();
    d.put(&entry, "batch", batch).unwrap();
}

#[tokio::test]
async fn an_oversized_batch_is_refused_and_nobody_is_told() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let landed = scene.conversation("dana").await?;
    let doc = document(&landed);
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    let ws = workspace_of(&ana, &scene);
    let now = baton_shared::clock::now();
    let by = By::Agent(ana_id.clone());
    assign(
        ana.docs.doc_mut(&doc).unwrap(),
        &ws,
        &by,
        Some(&ana_id),
        None,
        now,
    )?;
    ana.settle(doc).await?;
    let told = |n: &Vec<serde_json::Value>| n.len();
    let before =
        baton_tests::notifications_about(&scene.server, "ben@acme.test", &landed.document).await?;

    // 60 KiB of batch: under the limit of any one text, not a batch id.
    let huge = format!("bat_{}", "x".repeat(60 * 1024));
    let forged = change_of(&mut ana, doc, |d| {
        unassign_in_batch(d, &ana_id, &ana_id, &huge, now + 1);
    });
    expect_refused(&scene, &mut ana, doc, &[&forged], "malformed").await?;
    // Past the limit of any text, it is refused for its size alone.
    let huger = "x".repeat(200 * 1024);
    let forged = change_of(&mut ana, doc, |d| {
        unassign_in_batch(d, &ana_id, &ana_id, &huger, now + 2);
    });
    expect_refused(&scene, &mut ana, doc, &[&forged], "too_large").await?;

    let after =
        baton_tests::notifications_about(&scene.server, "ben@acme.test", &landed.document).await?;
    assert_eq!(told(&after), told(&before), "nobody was told");
    // The same unassign with a real batch id is fine.
    let honest = change_of(&mut ana, doc, |d| {
        unassign_in_batch(d, &ana_id, &ana_id, "bat_2NEpo7TZRRrLZSi2U", now + 3);
    });
    crate::scene::send_changes(&mut ana, doc, &[&honest]).await?;
    ana.docs.reload(doc);
    ana.wait(crate::scene::WAIT, |c| {
        c.docs
            .doc(&doc)
            .and_then(|d| baton_shared::conversation::read(d).ok())
            .is_some_and(|c| c.assignee().is_none())
    })
    .await?;
    Ok(())
}
