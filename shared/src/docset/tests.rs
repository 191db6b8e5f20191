//! A DocSet driven by hand: sync messages queued until the join, and a
//! document taken out with its sync state.

use super::*;
use automerge::ReadDoc;
use automerge::transaction::Transactable;

fn joined() -> DocSet {
    let mut set = DocSet::new("client");
    let _ = set.join();
    set.receive(Message::Peer {
        sender_id: "server".to_owned(),
        target_id: "client".to_owned(),
        selected_protocol_version: protocol::PROTOCOL_V1.to_owned(),
        peer_metadata: None,
        baton: Some(protocol::BATON_VERSION),
    });
    set
}

#[test]
fn a_sync_message_made_elsewhere_goes_to_the_server_once_joined() {
    let id = DocumentId::from_bytes([1; 16]);
    let mut set = DocSet::new("client");
    set.send_sync(id, vec![1, 2, 3]);
    assert!(set.take_outgoing().is_empty(), "nothing before the join");
    let mut set = joined();
    set.send_sync(id, vec![1, 2, 3]);
    match set.take_outgoing().as_slice() {
        [
            Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            },
        ] => {
            assert_eq!(
                (sender_id.as_str(), target_id.as_str()),
                ("client", "server")
            );
            assert_eq!(
                (*document_id, data.as_slice()),
                (id, [1u8, 2, 3].as_slice())
            );
        }
        other => panic!("expected one sync message, got {other:?}"),
    }
}

#[test]
fn a_taken_document_leaves_the_set_with_its_state() {
    let held = DocumentId::from_bytes([2; 16]);
    let asked = DocumentId::from_bytes([3; 16]);
    let mut set = joined();
    let mut doc = AutoCommit::new();
    doc.put(automerge::ROOT, "subject", "Refund").unwrap();
    set.insert(held, doc);
    set.open(asked);
    let (taken, _state) = set.take(&held).expect("a held document");
    assert_eq!(
        taken
            .get(automerge::ROOT, "subject")
            .unwrap()
            .map(|(v, _)| v.to_string()),
        Some("\"Refund\"".to_owned())
    );
    assert!(set.doc(&held).is_none() && set.take(&held).is_none());
    assert!(
        set.take(&asked).is_none(),
        "a document still asked for stays"
    );
}
