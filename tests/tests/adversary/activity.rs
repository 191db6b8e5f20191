//! F6 and F7: activity entries that say what the change did not do. A fake
//! "reopened" fires workflows at will; a "claimed" in someone else's name
//! puts their name on the trail; another agent's batch id would merge into
//! their notification.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc, Value};
use baton_shared::ids::AgentId;
use baton_shared::model::By;
use baton_shared::operations::{ReplyMode, assign, bulk_assign, new_batch_id, reply};

use crate::scene::{Scene, change_of, changes_of, document, expect_refused, id_of, workspace_of};

/// Appends an activity entry with these fields, by hand.
fn entry(d: &mut AutoCommit, fields: &[(&str, &str)], at: i64) {
    let Some((Value::Object(ObjType::List), activity)) = d.get(ROOT, "activity").unwrap() else {
        panic!("no activity trail");
    };
    let e = d
        .insert_object(&activity, d.length(&activity), ObjType::Map)
        .unwrap();
    d.put(&e, "at", at).unwrap();
    for (k, v) in fields {
        d.put(&e, *k, *v).unwrap();
    }
}

#[tokio::test]
async fn activity_entries_must_match_what_the_change_did() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let doc = document(&scene.conversation("dana").await?);
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    let ben_id = id_of(&ana, &scene, "ben@acme.test");
    let now = baton_shared::clock::now();
    let me = ana_id.as_str().to_owned();
    // "Reopened" with no status change: it would fire reopen workflows.
    let forged = change_of(&mut ana, doc, |d| {
        entry(d, &[("by", &me), ("event", "reopened")], now);
    });
    expect_refused(&scene, &mut ana, doc, &[&forged], "inconsistent").await?;
    // Two entries in one change (an honest change adds one at most).
    let forged = change_of(&mut ana, doc, |d| {
        entry(d, &[("by", &me), ("event", "resolved")], now);
        entry(d, &[("by", &me), ("event", "resolved")], now + 1);
        d.put(ROOT, "status", "resolved").unwrap();
    });
    expect_refused(&scene, &mut ana, doc, &[&forged], "inconsistent").await?;
    // "Ben claimed it by replying", written by Ana.
    let forged = change_of(&mut ana, doc, |d| {
        entry(
            d,
            &[
                ("by", &me),
                ("event", "claimed"),
                ("agent", ben_id.as_str()),
            ],
            now,
        );
    });
    expect_refused(&scene, &mut ana, doc, &[&forged], "inconsistent").await?;
    // The same with a claim for Ben and a reply of Ana's to go with it.
    let ws = workspace_of(&ana, &scene);
    let both = changes_of(&mut ana, doc, |d| {
        reply(d, &ws, &ana_id, "hi", ReplyMode::Claim, now).unwrap();
        let assignee = d.put_object(ROOT, "assignee", ObjType::Map).unwrap();
        d.put(&assignee, "agent", ben_id.as_str()).unwrap();
        d.put(&assignee, "kind", "reply").unwrap();
        d.put(&assignee, "by", ana_id.as_str()).unwrap();
        d.put(&assignee, "at", now + 1).unwrap();
    });
    let both: Vec<_> = both.iter().collect();
    crate::scene::send_changes(&mut ana, doc, &both).await?;
    assert_eq!(crate::scene::refusal(&mut ana, doc).await?, "forged_by");
    Ok(())
}

#[tokio::test]
async fn another_agents_batch_id_joins_nothing_of_theirs() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let docs = [
        document(&scene.conversation("dana").await?),
        document(&scene.conversation("eve").await?),
        document(&scene.conversation("finn").await?),
    ];
    let mut ben = scene.agent("ben@acme.test").await?;
    let mut admin = scene.agent("admin@acme.test").await?;
    ben.open_all(&docs).await?;
    admin.open_all(&docs).await?;
    let ana_id: AgentId = id_of(&ben, &scene, "ana@acme.test");
    let ben_id = id_of(&ben, &scene, "ben@acme.test");
    let admin_id = id_of(&admin, &scene, "admin@acme.test");
    let ws = workspace_of(&ben, &scene);
    let batch = new_batch_id();
    let now = baton_shared::clock::now();
    let two = [docs[0], docs[1]];
    let outcomes = bulk_assign(
        ben.docs
            .docs_mut(&two)
            .map(|(_, d)| ("cnv_x".parse().unwrap(), d)),
        &ws,
        &By::Agent(ben_id),
        Some(&ana_id),
        &batch,
        now,
    );
    assert!(outcomes.iter().all(|o| o.result.is_ok()));
    for doc in two {
        ben.docs.sync(doc);
    }
    ben.acknowledged(&two, crate::scene::WAIT).await?;
    // The admin reuses Ben's batch id for a third conversation.
    assign(
        admin.docs.doc_mut(&docs[2]).unwrap(),
        &ws,
        &By::Agent(admin_id),
        Some(&ana_id),
        Some(&batch),
        now,
    )?;
    admin.settle(docs[2]).await?;
    let all =
        baton_tests::get_json_as(&scene.server, "ana@acme.test", "/api/notifications").await?;
    let texts: Vec<String> = all["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t == "Ben assigned you 2 conversations"),
        "{texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("assigned you 3")),
        "{texts:?}"
    );
    Ok(())
}
