//! Wire protocol: every message round-trips, uses automerge-repo's field
//! names, and malformed frames decode as typed errors, never panics.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::collections::BTreeMap;

use baton_shared::ids::DocumentId;
use baton_shared::notify::NoticeKind;
use baton_shared::protocol::{
    ChangedDocument, Message, Notification, PeerMetadata, Presence, PresenceState, ProtocolError,
    RemoteHeads, decode_presence, encode_presence,
};
use ciborium::Value;

fn doc() -> DocumentId {
    DocumentId::from_bytes([7; 16])
}

fn every_message() -> Vec<Message> {
    let s = || "peer-a".to_owned();
    let t = || "peer-b".to_owned();
    let mut heads = BTreeMap::new();
    heads.insert(
        "storage-1".to_owned(),
        RemoteHeads {
            heads: vec!["ab".repeat(32)],
            timestamp: 1_700_000_000_000,
        },
    );
    vec![
        Message::Join {
            sender_id: s(),
            supported_protocol_versions: vec!["1".to_owned()],
            peer_metadata: Some(PeerMetadata {
                storage_id: Some("storage-1".to_owned()),
                is_ephemeral: false,
            }),
            baton: Some(1),
        },
        Message::Peer {
            sender_id: s(),
            target_id: t(),
            selected_protocol_version: "1".to_owned(),
            peer_metadata: None,
            baton: Some(1),
        },
        Message::Leave { sender_id: s() },
        Message::Error {
            sender_id: s(),
            message: "bad".to_owned(),
        },
        Message::Request {
            sender_id: s(),
            target_id: t(),
            document_id: doc(),
            data: vec![1, 2, 3],
        },
        Message::Sync {
            sender_id: s(),
            target_id: t(),
            document_id: doc(),
            data: vec![0x42; 300],
        },
        Message::DocUnavailable {
            sender_id: s(),
            target_id: t(),
            document_id: doc(),
        },
        Message::Ephemeral {
            sender_id: s(),
            target_id: t(),
            count: 3,
            session_id: "session".to_owned(),
            document_id: doc(),
            data: encode_presence(&Presence {
                agent: "agt_ana".parse().unwrap(),
                state: PresenceState::Typing,
            }),
        },
        Message::RemoteSubscriptionChange {
            sender_id: s(),
            target_id: t(),
            add: Some(vec!["storage-1".to_owned()]),
            remove: None,
        },
        Message::RemoteHeadsChanged {
            sender_id: s(),
            target_id: t(),
            document_id: doc(),
            new_heads: heads,
        },
        Message::BatonCatchUp {
            sender_id: s(),
            target_id: t(),
            since: 41,
        },
        Message::BatonHeads {
            sender_id: s(),
            target_id: t(),
            seq: 99,
            documents: vec![ChangedDocument {
                document_id: doc(),
                heads: vec!["cd".repeat(32)],
                seq: 98,
            }],
            more: true,
        },
        Message::BatonNotification {
            sender_id: s(),
            target_id: t(),
            notification: Notification {
                id: "ntf_1".to_owned(),
                agent: "agt_ben".parse().unwrap(),
                conversation: "cnv_1".parse().unwrap(),
                document_id: doc(),
                kind: NoticeKind::AssignedToYou,
                text: "Ana assigned you 40 conversations".to_owned(),
                batch: Some("bat_1".to_owned()),
                count: 40,
                at: 5,
                read: false,
            },
        },
        Message::BatonNotificationRead {
            sender_id: s(),
            target_id: t(),
            ids: vec!["ntf_1".to_owned()],
        },
        Message::BatonPresence {
            sender_id: s(),
            target_id: t(),
            document_id: doc(),
            presence: Presence {
                agent: "agt_ana".parse().unwrap(),
                state: PresenceState::Viewing,
            },
        },
        Message::BatonError {
            sender_id: s(),
            target_id: t(),
            document_id: Some(doc()),
            code: "forged_author".to_owned(),
            message: "no".to_owned(),
        },
    ]
}

#[test]
fn every_message_round_trips() {
    let all = every_message();
    let kinds: std::collections::BTreeSet<_> = all.iter().map(Message::kind).collect();
    assert_eq!(kinds.len(), 16, "one sample per message type");
    for message in all {
        let bytes = message.encode();
        assert_eq!(
            Message::decode(&bytes),
            Ok(message.clone()),
            "{}",
            message.kind()
        );
    }
}

fn keys(message: &Message) -> Vec<String> {
    let value: Value = ciborium::from_reader(message.encode().as_slice()).unwrap();
    let Value::Map(entries) = value else {
        panic!("not a map")
    };
    entries
        .into_iter()
        .map(|(k, _)| k.into_text().unwrap())
        .collect()
}

#[test]
fn field_names_match_automerge_repo() {
    let all = every_message();
    let expected: [(usize, &[&str]); 4] = [
        (
            0,
            &[
                "type",
                "senderId",
                "supportedProtocolVersions",
                "peerMetadata",
                "baton",
            ],
        ),
        (5, &["type", "senderId", "targetId", "documentId", "data"]),
        (
            7,
            &[
                "type",
                "senderId",
                "targetId",
                "count",
                "sessionId",
                "documentId",
                "data",
            ],
        ),
        (
            9,
            &["type", "senderId", "targetId", "documentId", "newHeads"],
        ),
    ];
    for (sample, names) in expected {
        assert_eq!(keys(&all[sample]), names, "{}", all[sample].kind());
    }
    // The sync payload is a CBOR byte string, as cbor-x writes a Uint8Array.
    let value: Value = ciborium::from_reader(all[5].encode().as_slice()).unwrap();
    let data = value
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some("data"));
    assert!(matches!(data, Some((_, Value::Bytes(_)))));
    // Document ids travel as automerge-repo's bs58check strings.
    let id = value
        .as_map()
        .unwrap()
        .iter()
        .find(|(k, _)| k.as_text() == Some("documentId"));
    assert_eq!(id.unwrap().1.as_text(), Some(doc().to_string().as_str()));
}

#[test]
fn a_stock_join_without_baton_fields_decodes() {
    let join = Value::Map(vec![
        (Value::Text("type".into()), Value::Text("join".into())),
        (
            Value::Text("senderId".into()),
            Value::Text("stock-peer".into()),
        ),
        (
            Value::Text("supportedProtocolVersions".into()),
            Value::Array(vec![Value::Text("1".into())]),
        ),
        (
            Value::Text("peerMetadata".into()),
            Value::Map(vec![(Value::Text("isEphemeral".into()), Value::Bool(true))]),
        ),
    ]);
    let mut bytes = Vec::new();
    ciborium::into_writer(&join, &mut bytes).unwrap();
    let Message::Join {
        baton,
        peer_metadata,
        ..
    } = Message::decode(&bytes).unwrap()
    else {
        panic!("not a join");
    };
    assert_eq!(baton, None);
    assert!(peer_metadata.unwrap().is_ephemeral);
}

#[test]
fn tagged_byte_arrays_from_javascript_read_as_bytes() {
    let sync = Value::Map(vec![
        (Value::Text("type".into()), Value::Text("sync".into())),
        (Value::Text("senderId".into()), Value::Text("a".into())),
        (Value::Text("targetId".into()), Value::Text("b".into())),
        (
            Value::Text("documentId".into()),
            Value::Text(doc().to_string()),
        ),
        (
            Value::Text("data".into()),
            Value::Tag(64, Box::new(Value::Bytes(vec![9, 9]))),
        ),
    ]);
    let mut bytes = Vec::new();
    ciborium::into_writer(&sync, &mut bytes).unwrap();
    let Message::Sync { data, .. } = Message::decode(&bytes).unwrap() else {
        panic!()
    };
    assert_eq!(data, vec![9, 9]);
}

fn cbor(value: Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(&value, &mut bytes).unwrap();
    bytes
}

#[test]
fn malformed_frames_are_typed_errors() {
    let text = |s: &str| Value::Text(s.into());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("truncated map", vec![0xa5, 0x64]),
        (
            "huge byte string length",
            vec![0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        (
            "huge array length",
            vec![0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        ("deep nesting", [vec![0x81; 100_000], vec![0x00]].concat()),
        ("not a map", cbor(Value::Array(vec![text("sync")]))),
        (
            "no type",
            cbor(Value::Map(vec![(text("senderId"), text("a"))])),
        ),
        (
            "numeric type",
            cbor(Value::Map(vec![(text("type"), Value::Integer(1.into()))])),
        ),
        (
            "unknown type",
            cbor(Value::Map(vec![(text("type"), text("gossip"))])),
        ),
        (
            "sync without data",
            cbor(Value::Map(vec![
                (text("type"), text("sync")),
                (text("senderId"), text("a")),
                (text("targetId"), text("b")),
                (text("documentId"), Value::Text(doc().to_string())),
            ])),
        ),
        (
            "bad document id",
            cbor(Value::Map(vec![
                (text("type"), text("doc-unavailable")),
                (text("senderId"), text("a")),
                (text("targetId"), text("b")),
                (text("documentId"), text("not-a-document")),
            ])),
        ),
        (
            "data as text",
            cbor(Value::Map(vec![
                (text("type"), text("request")),
                (text("senderId"), text("a")),
                (text("targetId"), text("b")),
                (text("documentId"), Value::Text(doc().to_string())),
                (text("data"), text("bytes?")),
            ])),
        ),
    ];
    for (name, bytes) in cases {
        let err = Message::decode(&bytes).expect_err(name);
        match name {
            "unknown type" => assert_eq!(err, ProtocolError::UnknownType("gossip".to_owned())),
            "not a map" | "no type" | "numeric type" => assert_eq!(err, ProtocolError::NotAMessage),
            "sync without data" | "bad document id" | "data as text" => {
                assert!(
                    matches!(err, ProtocolError::Invalid { .. }),
                    "{name}: {err}"
                )
            }
            _ => assert!(matches!(err, ProtocolError::Cbor(_)), "{name}: {err}"),
        }
    }
}

#[test]
fn presence_round_trips_and_rejects_garbage() {
    let presence = Presence {
        agent: "agt_ana".parse().unwrap(),
        state: PresenceState::Left,
    };
    assert_eq!(decode_presence(&encode_presence(&presence)), Ok(presence));
    assert!(decode_presence(&[0xff, 0x00]).is_err());
}
