//! F2: a million operations in a few hundred bytes. Run-length encoding
//! makes them small on the wire; applied, they cost seconds of CPU and are
//! replayed by every boot for good.

use std::time::Instant;

use automerge::ScalarValue;
use automerge::legacy::OpType;
use baton_shared::model::By;
use baton_shared::operations::resolve;

use crate::scene::{Scene, change_of, document, expect_refused, id_of, reencode};

#[tokio::test]
async fn a_million_operations_in_a_few_bytes_are_refused_before_they_cost_anything()
-> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let doc = document(&scene.conversation("dana").await?);
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    let honest = change_of(&mut ana, doc, |d| {
        resolve(d, &By::Agent(ana_id.clone()), baton_shared::clock::now()).unwrap();
    });
    let bomb = reencode(&honest, |c| {
        let mut status = c.operations[0].clone();
        status.action = OpType::Put(ScalarValue::Null);
        c.operations = vec![status; 1_000_000];
    });
    assert!(
        bomb.raw_bytes().len() < 4_096,
        "{} bytes",
        bomb.raw_bytes().len()
    );
    let started = Instant::now();
    expect_refused(&scene, &mut ana, doc, &[&bomb], "too_large").await?;
    println!(
        "a million-operation change refused in {:?}",
        started.elapsed()
    );
    // The connection and the document are as good as before.
    resolve(
        ana.docs.doc_mut(&doc).unwrap(),
        &By::Agent(ana_id),
        baton_shared::clock::now(),
    )?;
    ana.settle(doc).await?;
    let stored = scene.stored_conversation(doc).await?;
    assert_eq!(stored.status, baton_shared::model::Status::Resolved);
    Ok(())
}
