//! The stage every attack plays on (the shared [`Scene`]: a fresh server
//! with an admin, Ana and Ben), and the moves an attacker makes with the
//! real wire protocol — changes made by hand, re-encoded, or sent raw.

use anyhow::Context;
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ExpandedChange};
use baton_shared::docset::Event;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::workspace::{self, Workspace};
use baton_tests::Landed;
use baton_tests::sync_client::{SyncClient, raw_sync};

pub use baton_tests::scene::{Scene, WAIT};

pub fn document(landed: &Landed) -> DocumentId {
    landed.document.parse().expect("a document id")
}

pub fn workspace_of(client: &SyncClient, scene: &Scene) -> Workspace {
    workspace::read(client.docs.doc(&scene.workspace).expect("the workspace")).expect("readable")
}

pub fn id_of(client: &SyncClient, scene: &Scene, email: &str) -> AgentId {
    workspace_of(client, scene)
        .agent_by_email(email)
        .expect("a member")
        .id
        .clone()
}

/// The change `write` makes to a copy of what `client` holds of `doc`,
/// as `client`'s own actor would write it; the client's copy is untouched.
pub fn change_of(
    client: &mut SyncClient,
    doc: DocumentId,
    write: impl FnOnce(&mut AutoCommit),
) -> Change {
    let held = client.docs.doc_mut(&doc).expect("a held document");
    let mut copy = held.fork().with_actor(held.get_actor().clone());
    write(&mut copy);
    copy.commit();
    copy.get_last_local_change().expect("a change")
}

/// Every change `write` makes to a copy of what `client` holds of `doc`
/// (operations commit as they go, so one write may make several).
pub fn changes_of(
    client: &mut SyncClient,
    doc: DocumentId,
    write: impl FnOnce(&mut AutoCommit),
) -> Vec<Change> {
    let held = client.docs.doc_mut(&doc).expect("a held document");
    let before = held.get_heads();
    let mut copy = held.fork().with_actor(held.get_actor().clone());
    write(&mut copy);
    copy.commit();
    copy.get_changes(&before)
}

/// The same change as `write` makes, from a fresh actor, built on the
/// document as it stood at `heads`.
pub fn change_at(
    client: &mut SyncClient,
    doc: DocumentId,
    heads: &[ChangeHash],
    write: impl FnOnce(&mut AutoCommit),
) -> Change {
    let held = client.docs.doc_mut(&doc).expect("a held document");
    let mut copy = held
        .fork_at(heads)
        .expect("known heads")
        .with_actor(ActorId::random());
    write(&mut copy);
    copy.commit();
    copy.get_last_local_change().expect("a change")
}

/// `change` re-encoded after `edit` (a change no honest client writes).
pub fn reencode(change: &Change, edit: impl FnOnce(&mut ExpandedChange)) -> Change {
    let mut expanded = change.decode();
    edit(&mut expanded);
    expanded.hash = None;
    Change::from(expanded)
}

/// Sends `chunks` (encoded changes, or anything else) for `doc` as one
/// sync message, the way a hand-written client could.
pub async fn send_chunks(
    client: &mut SyncClient,
    doc: DocumentId,
    chunks: Vec<Vec<u8>>,
) -> anyhow::Result<()> {
    client.send(&raw_sync(doc, Vec::new(), chunks)).await
}

pub async fn send_changes(
    client: &mut SyncClient,
    doc: DocumentId,
    changes: &[&Change],
) -> anyhow::Result<()> {
    let chunks = changes.iter().map(|c| c.raw_bytes().to_vec()).collect();
    send_chunks(client, doc, chunks).await
}

/// Waits for the next refusal of a change to `doc`; its code.
pub async fn refusal(client: &mut SyncClient, doc: DocumentId) -> anyhow::Result<String> {
    let seen = client.events.len();
    let refused = |c: &SyncClient| {
        c.events[seen..].iter().find_map(|e| match e {
            Event::Refused { document, code, .. } if *document == Some(doc) => Some(code.clone()),
            _ => None,
        })
    };
    let waited = client.wait(WAIT, |c| refused(c).is_some()).await;
    waited.with_context(|| format!("no refusal came; got {:?}", &client.events[seen..]))?;
    Ok(refused(client).unwrap_or_default())
}

/// Sends `changes` and expects them refused with `code`; then nothing of
/// them is stored, and the client reloads the document.
pub async fn expect_refused(
    scene: &Scene,
    client: &mut SyncClient,
    doc: DocumentId,
    changes: &[&Change],
    code: &str,
) -> anyhow::Result<()> {
    let (before, _) = scene.stored(doc).await?;
    send_changes(client, doc, changes).await?;
    assert_eq!(refusal(client, doc).await?, code);
    let (after, _) = scene.stored(doc).await?;
    assert_eq!(after, before, "{code}: nothing of the change is stored");
    client.docs.reload(doc);
    client.wait(WAIT, |c| c.docs.doc(&doc).is_some()).await
}
