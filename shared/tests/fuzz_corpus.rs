//! Replays the fuzz corpus (`fuzz/corpus/`) as an ordinary test, so every
//! input that ever found a problem stays fixed. `write_seed_corpus` (ignored)
//! regenerates the seed inputs and the fixture they are changes to.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod fuzz_support;

use std::fs;
use std::path::{Path, PathBuf};

use automerge::ActorId;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use baton_shared::conversation::{NewConversation, create};
use baton_shared::model::Customer;
use baton_shared::operations::{ReplyMode, note, reply};
use baton_shared::protocol::Message;

fn corpus(name: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(name);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

#[test]
fn the_decode_corpus_never_panics() {
    let inputs = corpus("decode");
    assert!(inputs.len() >= 20, "the seed corpus is there");
    let mut decoded = 0;
    for (path, bytes) in inputs {
        match Message::decode(&bytes) {
            Ok(message) => {
                decoded += 1;
                assert_eq!(
                    Message::decode(&message.encode()),
                    Ok(message),
                    "{}",
                    path.display()
                );
            }
            Err(err) => assert!(!err.to_string().is_empty()),
        }
    }
    assert!(decoded >= 10, "valid seeds decode");
}

#[test]
fn the_validate_corpus_never_panics_and_judges_the_seeds() {
    let mut accepted = 0;
    let mut refused = 0;
    for (path, bytes) in corpus("validate") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some([as_agent, _as_server]) = fuzz_support::validate_bytes(&bytes) else {
            continue;
        };
        if name.starts_with("honest-") {
            assert_eq!(as_agent, Ok(()), "{name}");
            accepted += 1;
        } else if name.starts_with("forged-") {
            assert!(as_agent.is_err(), "{name} was accepted");
            refused += 1;
        }
    }
    assert!(
        accepted >= 2 && refused >= 2,
        "{accepted} honest, {refused} forged seeds"
    );
}

fn fixture() -> AutoCommit {
    let new = NewConversation {
        id: "cnv_fuzz".parse().unwrap(),
        channel: "chn_email".parse().unwrap(),
        subject: "Fuzzing".to_owned(),
        customer: Customer {
            id: "cus_1".to_owned(),
            name: "Dana".to_owned(),
            email: "dana@example.com".to_owned(),
        },
        at: fuzz_support::NOW - 1_000,
    };
    create(&new).unwrap()
}

#[test]
#[ignore = "regenerates fuzz/ seeds; run by hand"]
fn write_seed_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut base = fixture();
    fs::write(root.join("fixtures/conversation.automerge"), base.save()).unwrap();
    let workspace = fuzz_support::workspace();
    let ana = "agt_ana".parse().unwrap();
    let now = fuzz_support::NOW;
    type Write<'a> = Box<dyn Fn(&mut AutoCommit) + 'a>;
    let mut changes: Vec<(&str, Write)> = Vec::new();
    changes.push((
        "honest-claim",
        Box::new(|d| {
            reply(d, &workspace, &ana, "Hello", ReplyMode::Claim, now).unwrap();
        }),
    ));
    changes.push((
        "honest-note",
        Box::new(|d| {
            note(d, &workspace, &ana, "Internal", now).unwrap();
        }),
    ));
    changes.push((
        "forged-boss-reply",
        Box::new(|d| {
            let boss = "agt_boss".parse().unwrap();
            reply(d, &workspace, &boss, "Hi", ReplyMode::Claim, now).unwrap();
        }),
    ));
    changes.push((
        "forged-channel",
        Box::new(|d| {
            d.put(ROOT, "channel", "chn_other").unwrap();
        }),
    ));
    changes.push((
        "forged-future",
        Box::new(|d| {
            note(d, &workspace, &ana, "later", now + 3_600_000).unwrap();
        }),
    ));
    for (name, write) in &changes {
        let mut client = base.fork().with_actor(ActorId::random());
        write(&mut client);
        client.commit();
        // Uncompressed, as sync sends changes.
        let change = client.get_last_local_change().unwrap();
        fs::write(root.join("corpus/validate").join(name), change.raw_bytes()).unwrap();
    }
    let messages = [
        r#"{"type":"join","senderId":"a","supportedProtocolVersions":["1"]}"#,
        r#"{"type":"leave","senderId":"a"}"#,
        r#"{"type":"baton/catch-up","senderId":"a","targetId":"b","since":3}"#,
        r#"{"type":"baton/notification-read","senderId":"a","targetId":"b","ids":["n"]}"#,
        r#"{"type":"peer","senderId":"a","targetId":"b","selectedProtocolVersion":"1"}"#,
        r#"{"type":"error","senderId":"a","message":"m"}"#,
        r#"{"type":"remote-subscription-change","senderId":"a","targetId":"b","add":["s"]}"#,
        r#"{"type":"doc-unavailable","senderId":"a","targetId":"b","documentId":"3JhLHnCVfn2x8T2PaJaMwpt3Gpu3"}"#,
        r#"{"type":"gossip","senderId":"a"}"#,
        r#"{"type":"sync","senderId":"a"}"#,
        r#"["not", "a", "map"]"#,
        r#"{"type":"baton/heads","senderId":"a","targetId":"b","seq":1,"documents":[]}"#,
    ];
    for (i, json) in messages.iter().enumerate() {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut bytes = Vec::new();
        ciborium::into_writer(&value, &mut bytes).unwrap();
        fs::write(root.join(format!("corpus/decode/seed-{i:02}")), bytes).unwrap();
    }
    let doc = baton_shared::ids::DocumentId::from_bytes([3; 16]);
    let binary = [
        Message::Sync {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
            data: vec![0x42, 1, 2],
        },
        Message::Request {
            sender_id: "a".into(),
            target_id: "b".into(),
            document_id: doc,
            data: vec![],
        },
        Message::Ephemeral {
            sender_id: "a".into(),
            target_id: "b".into(),
            count: 1,
            session_id: "s".into(),
            document_id: doc,
            data: vec![1],
        },
    ];
    for (i, message) in binary.iter().enumerate() {
        fs::write(
            root.join(format!("corpus/decode/binary-{i:02}")),
            message.encode(),
        )
        .unwrap();
    }
    for (i, bytes) in [
        vec![],
        vec![0xff],
        vec![0xa1],
        vec![0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x81; 4096],
    ]
    .iter()
    .enumerate()
    {
        fs::write(root.join(format!("corpus/decode/broken-{i:02}")), bytes).unwrap();
    }
}
