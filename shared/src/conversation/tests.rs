//! A new conversation as the server creates it, and the strict reading of its document.

use super::*;

pub(crate) fn sample() -> NewConversation {
    NewConversation {
        id: ConversationId::from_bytes([1; 16]),
        channel: "chn_support".parse().unwrap(),
        subject: "Where is my order?".to_owned(),
        customer: Customer {
            id: "cus_1".to_owned(),
            name: "Dana Reyes".to_owned(),
            email: "dana@example.com".to_owned(),
        },
        at: 1_000,
    }
}

#[test]
fn a_new_conversation_is_open_unassigned_and_logged() {
    let doc = create(&sample()).unwrap();
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.status, Status::Open);
    assert_eq!(conversation.assignee(), None);
    assert_eq!(conversation.assignments.len(), 1);
    assert_eq!(conversation.activity.len(), 1);
    assert_eq!(conversation.activity[0].event, ActivityEvent::Created);
    assert_eq!(conversation.customer.email, "dana@example.com");
}

#[test]
fn a_new_conversation_is_a_single_change() {
    let mut doc = create(&sample()).unwrap();
    assert_eq!(doc.get_changes(&[]).len(), 1);
}

#[test]
fn reading_rejects_unexpected_fields_and_wrong_types() {
    let mut doc = create(&sample()).unwrap();
    doc.put(ROOT, "extra", 1).unwrap();
    assert_eq!(
        read(&doc).unwrap_err(),
        ReadError::Unexpected("extra".to_owned())
    );
    let mut doc = create(&sample()).unwrap();
    doc.put(ROOT, key::CREATED_AT, "yesterday").unwrap();
    assert!(matches!(
        read(&doc).unwrap_err(),
        ReadError::WrongType { .. }
    ));
    let mut doc = create(&sample()).unwrap();
    doc.put(ROOT, key::STATUS, "snoozed").unwrap();
    assert!(matches!(read(&doc).unwrap_err(), ReadError::Invalid { .. }));
}
