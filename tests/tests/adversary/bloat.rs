//! F5: a document bloated for good with invisible junk (a key put and
//! deleted in one change) or with subscription keys that name nothing;
//! every client downloads the workspace at boot.

use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc, Value};
use baton_shared::ids::ChannelId;
use baton_shared::workspace;

use crate::scene::{Scene, change_of, document, expect_refused, id_of};

#[tokio::test]
async fn junk_put_and_deleted_in_one_change_is_refused() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let doc = document(&scene.conversation("dana").await?);
    let mut ana = scene.agent("ana@acme.test").await?;
    ana.open_all(&[doc]).await?;
    let junk = "x".repeat(60 * 1024);
    for target in [doc, scene.workspace] {
        let forged = change_of(&mut ana, target, |d| {
            d.put(ROOT, "junk", junk.as_str()).unwrap();
            d.delete(ROOT, "junk").unwrap();
        });
        expect_refused(&scene, &mut ana, target, &[&forged], "malformed").await?;
    }
    // Deleting the status, which a client may overwrite, is no overwrite.
    let forged = change_of(&mut ana, doc, |d| d.delete(ROOT, "status").unwrap());
    expect_refused(&scene, &mut ana, doc, &[&forged], "malformed").await?;
    Ok(())
}

#[tokio::test]
async fn subscriptions_name_only_channels_that_exist() -> anyhow::Result<()> {
    let scene = Scene::new().await?;
    let ws = scene.workspace;
    let mut ana = scene.agent("ana@acme.test").await?;
    let ana_id = id_of(&ana, &scene, "ana@acme.test");
    let now = baton_shared::clock::now();
    let made_up: ChannelId = "chn_madeup".parse()?;
    let forged = change_of(&mut ana, ws, |d| {
        workspace::set_subscription(d, &ana_id, &made_up, false, now).unwrap();
    });
    expect_refused(&scene, &mut ana, ws, &[&forged], "malformed").await?;
    // Turning a real channel off is fine.
    let channel: ChannelId = scene.team.channel.parse()?;
    workspace::set_subscription(
        ana.docs.doc_mut(&ws).unwrap(),
        &ana_id,
        &channel,
        false,
        now,
    )?;
    ana.settle(ws).await?;
    let (_, stored) = scene.stored(ws).await?;
    let subs = match stored.get(ROOT, "subscriptions")? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => panic!("subscriptions"),
    };
    let mine = match stored.get(&subs, ana_id.as_str())? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => panic!("Ana's subscriptions"),
    };
    assert_eq!(
        stored.keys(&mine).collect::<Vec<_>>(),
        [channel.to_string()]
    );
    Ok(())
}
