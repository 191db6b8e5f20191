//! F1: a change numbered near the end of the op counter. Accepted, it would
//! make every later change to the document overflow the counter and panic
//! (the server's writes, every browser's), for good.

use std::num::NonZeroU64;

use baton_shared::workspace;
use serde_json::json;

use crate::scene::{Scene, change_of, expect_refused, id_of, reencode};

#[tokio::test]
async fn a_change_numbered_anywhere_but_next_is_refused_and_the_document_stays_usable()
-> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let mut ana = scene.agent("ana@acme.test").await?;
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    let ws = scene.workspace;
    let now = baton_shared::clock::now();
    // A one-operation change: Ana's own away switch.
    let honest = change_of(&mut ana, ws, |d| {
        workspace::set_away(d, &ana_id, true, now).unwrap();
    });
    for start in [u64::from(u32::MAX), u64::from(u32::MAX) - 1, 1 << 20, 1] {
        let forged = reencode(&honest, |c| {
            c.start_op = NonZeroU64::new(start).unwrap();
        });
        expect_refused(&scene, &mut ana, ws, &[&forged], "bad_counter").await?;
    }
    // The workspace still takes the server's changes and the agents'.
    let admin = scene.signed_in_over_http("admin@acme.test").await?;
    let added = admin
        .post(scene.server.at("/api/agents"))
        .json(&json!({"name": "Cy", "email": "cy@acme.test", "role": "agent"}))
        .send()
        .await?;
    assert_eq!(added.status(), 201);
    workspace::set_away(ana.docs.doc_mut(&ws).unwrap(), &ana_id, true, now)?;
    ana.settle(ws).await?;
    assert!(ana.refusals().iter().all(|(_, code)| code == "bad_counter"));
    Ok(())
}
