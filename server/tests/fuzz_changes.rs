//! A fuzz campaign on stable Rust: real changes, mutated the ways an
//! attacker can (op counters, sequence numbers, dependencies, operation
//! counts, actors, object ids, keys, predecessors, truncated or padded
//! bytes, flipped bits), offered to the server's receive path, and random
//! frames offered to the protocol decoder. Nothing may panic, and a change
//! the server accepts leaves a document every replica can still read and
//! write. The nightly `cargo fuzz` targets in `fuzz/` run the same checks
//! for longer.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use automerge::legacy::{Key, ObjectId, OpId};
use automerge::sync;
use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use baton_server::hub::{Hub, PeerDoc, Sender};
use baton_server::store::{SqlStore, Store};
use baton_server::team;
use baton_shared::conversation::{NewConversation, read};
use baton_shared::ids::{AgentId, ConversationId, DocumentId};
use baton_shared::model::{By, Customer, Role};
use baton_shared::operations::{ReplyMode, assign, customer_message, note, reply, resolve};
use baton_shared::protocol::Message;
use baton_shared::validate::{OnlineHistory, Principal};
use proptest::prelude::*;

struct World {
    runtime: tokio::runtime::Runtime,
    hub: Arc<Hub>,
    ana: AgentId,
    ben: AgentId,
    channel: baton_shared::ids::ChannelId,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (hub, ana, ben, channel) = runtime.block_on(async {
            let store: Arc<dyn Store> = Arc::new(SqlStore::open_dir(dir.path()).await.unwrap());
            let hub = Hub::open(store).await.unwrap();
            let ana = team::add_agent(&hub, "ana@acme.test", "Ana", Role::Agent, None, None)
                .await
                .unwrap();
            let ben = team::add_agent(&hub, "ben@acme.test", "Ben", Role::Agent, None, None)
                .await
                .unwrap();
            let channel = team::add_channel(&hub, "Email", "email").await.unwrap();
            (hub, ana.id, ben.id, channel.id)
        });
        World {
            runtime,
            hub,
            ana,
            ben,
            channel,
            _dir: dir,
        }
    })
}

/// What an attacker changes in an honest change.
#[derive(Debug, Clone)]
enum Mutation {
    StartOp(u64),
    Seq(u64),
    DropDeps,
    AddDep([u8; 32]),
    RepeatOps(usize),
    DropOps(usize),
    Actor([u8; 16]),
    ObjectId { op: usize, counter: u64, root: bool },
    MapKey { op: usize, key: String },
    Pred { op: usize, counter: u64 },
    Insert { op: usize },
    Truncate(usize),
    Append(Vec<u8>),
    Flip { at: usize, bits: u8 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        prop_oneof![
            Just(u64::from(u32::MAX)),
            Just(u64::from(u32::MAX) - 1),
            any::<u64>(),
            0u64..100
        ]
        .prop_map(Mutation::StartOp),
        any::<u64>().prop_map(Mutation::Seq),
        Just(Mutation::DropDeps),
        any::<[u8; 32]>().prop_map(Mutation::AddDep),
        prop_oneof![2usize..10, Just(30_000usize)].prop_map(Mutation::RepeatOps),
        (0usize..8).prop_map(Mutation::DropOps),
        any::<[u8; 16]>().prop_map(Mutation::Actor),
        (0usize..40, 0u64..60, any::<bool>()).prop_map(|(op, counter, root)| Mutation::ObjectId {
            op,
            counter,
            root
        }),
        (0usize..40, "[a-z_]{0,70}").prop_map(|(op, key)| Mutation::MapKey { op, key }),
        (0usize..40, 0u64..60).prop_map(|(op, counter)| Mutation::Pred { op, counter }),
        (0usize..40).prop_map(|op| Mutation::Insert { op }),
        (0usize..400).prop_map(Mutation::Truncate),
        proptest::collection::vec(any::<u8>(), 1..64).prop_map(Mutation::Append),
        (0usize..2_000, 1u8..=255).prop_map(|(at, bits)| Mutation::Flip { at, bits }),
    ]
}

/// The bytes of `change` after `mutation` (`None` if automerge's own
/// encoder refuses to write it).
fn mutate(change: &Change, mutation: &Mutation) -> Option<Vec<u8>> {
    let mut bytes = change.raw_bytes().to_vec();
    let mut expanded = change.decode();
    let n = expanded.operations.len().max(1);
    match mutation {
        Mutation::Truncate(len) => {
            bytes.truncate(*len % bytes.len());
            return Some(bytes);
        }
        Mutation::Append(tail) => {
            bytes.extend(tail);
            return Some(bytes);
        }
        Mutation::Flip { at, bits } => {
            let at = at % bytes.len();
            bytes[at] ^= bits;
            return Some(bytes);
        }
        Mutation::StartOp(start) => {
            expanded.start_op = std::num::NonZeroU64::new(*start).unwrap_or(expanded.start_op);
        }
        Mutation::Seq(seq) => expanded.seq = *seq,
        Mutation::DropDeps => expanded.deps.clear(),
        Mutation::AddDep(hash) => expanded.deps.push(ChangeHash(*hash)),
        Mutation::RepeatOps(times) => {
            let first = expanded.operations.first()?.clone();
            expanded
                .operations
                .extend(std::iter::repeat_n(first, *times));
        }
        Mutation::DropOps(count) => {
            let keep = expanded.operations.len().saturating_sub(*count);
            expanded.operations.truncate(keep);
        }
        Mutation::Actor(bytes) => expanded.actor_id = ActorId::from(&bytes[..]),
        Mutation::ObjectId { op, counter, root } => {
            let actor = expanded.actor_id.clone();
            let target = &mut expanded.operations[op % n];
            target.obj = if *root {
                ObjectId::Root
            } else {
                ObjectId::Id(OpId::new(*counter, &actor))
            };
        }
        Mutation::MapKey { op, key } => {
            expanded.operations[op % n].key = Key::Map(key.as_str().into());
        }
        Mutation::Pred { op, counter } => {
            let actor = expanded.actor_id.clone();
            let target = &mut expanded.operations[op % n];
            let mut pred: Vec<OpId> = target.pred.iter().cloned().collect();
            pred.push(OpId::new(*counter, &actor));
            target.pred = pred.into();
        }
        Mutation::Insert { op } => {
            let target = &mut expanded.operations[op % n];
            target.insert = !target.insert;
        }
    }
    expanded.hash = None;
    catch_unwind(AssertUnwindSafe(|| Change::from(expanded)))
        .ok()
        .map(|c| c.raw_bytes().to_vec())
}

/// A new conversation, and an honest change of Ana's to it (of `kind`).
async fn honest(world: &World, kind: u8) -> (DocumentId, Change) {
    let hub = &world.hub;
    let new = NewConversation {
        id: ConversationId::random(),
        channel: world.channel.clone(),
        subject: "Fuzz".to_owned(),
        customer: Customer {
            id: "cus_1".to_owned(),
            name: "Dana".to_owned(),
            email: "dana@example.com".to_owned(),
        },
        at: baton_shared::clock::now(),
    };
    let (doc, (), _) = hub
        .create_conversation(&new, |doc, ws| {
            customer_message(doc, ws, "Hello", baton_shared::clock::now()).map(|_| ())
        })
        .await
        .unwrap();
    let workspace = hub.workspace().await.unwrap();
    let mut client = {
        let held = hub.copy_of(doc).await.unwrap();
        held.with_actor(ActorId::random())
    };
    let now = baton_shared::clock::now();
    let by = By::Agent(world.ana.clone());
    match kind % 4 {
        0 => drop(reply(
            &mut client,
            &workspace,
            &world.ana,
            "Hi",
            ReplyMode::Claim,
            now,
        )),
        1 => drop(note(&mut client, &workspace, &world.ana, "fyi", now)),
        2 => drop(assign(
            &mut client,
            &workspace,
            &by,
            Some(&world.ben),
            None,
            now,
        )),
        _ => drop(resolve(&mut client, &by, now)),
    }
    (doc, client.get_last_local_change().unwrap())
}

/// Offers `chunk` as Ana's; true when the document changed.
async fn offer(world: &World, doc: DocumentId, chunk: Vec<u8>) -> bool {
    let message = sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![chunk].into(),
        flags: None,
        version: sync::MessageVersion::V1,
    };
    let sender = Sender::new(
        Principal::Agent(world.ana.clone()),
        OnlineHistory::default(),
    );
    let mut peer = PeerDoc::default();
    match world
        .hub
        .receive_sync(doc, &sender, &mut peer, message)
        .await
    {
        Ok(received) => received.changed,
        // A store or automerge error is an answer too; a panic is not.
        Err(_) => false,
    }
}

/// Every replica can still read the document and write to it.
async fn still_usable(world: &World, doc: DocumentId) {
    let held = world.hub.copy_of(doc).await.unwrap();
    let mut copy: AutoCommit = held.with_actor(ActorId::random());
    read(&copy).unwrap();
    let workspace = world.hub.workspace().await.unwrap();
    note(
        &mut copy,
        &workspace,
        &world.ben,
        "still here",
        baton_shared::clock::now(),
    )
    .unwrap();
    // A fresh load from the store reads the same.
    world.hub.forget(&doc);
    let reloaded = world.hub.copy_of(doc).await.unwrap();
    read(&reloaded).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_mutated_change_is_refused_or_leaves_a_usable_document(
        kind in any::<u8>(),
        mutation in mutation(),
    ) {
        let world = world();
        world.runtime.block_on(async {
            let (doc, change) = honest(world, kind).await;
            let Some(bytes) = mutate(&change, &mutation) else { return };
            if offer(world, doc, bytes).await {
                still_usable(world, doc).await;
            }
        });
    }

    #[test]
    fn random_frames_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode_limited(&bytes, baton_shared::protocol::MAX_PEER_FRAME_ITEMS);
        let _ = sync::Message::decode(&bytes);
        let _ = baton_shared::validate::change_shape(&bytes);
    }
}

#[test]
fn the_honest_changes_themselves_are_accepted() {
    let world = world();
    world.runtime.block_on(async {
        for kind in 0..4 {
            let (doc, change) = honest(world, kind).await;
            assert!(
                offer(world, doc, change.raw_bytes().to_vec()).await,
                "kind {kind}"
            );
            still_usable(world, doc).await;
        }
    });
}
