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

/// `standing` reads a few fields; it must agree with the whole read.
fn assert_standing_agrees(doc: &AutoCommit) {
    let whole = read(doc).unwrap();
    let standing = standing(doc).unwrap();
    assert_eq!(standing.status, whole.status);
    assert_eq!(standing.assignments, whole.assignments);
    assert_eq!(standing.activity, whole.activity.len());
    assert_eq!(standing.latest_at, whole.latest_at());
    assert_eq!(standing.assignee(), whole.assignee());
}

#[test]
fn the_standing_of_a_conversation_agrees_with_reading_it_whole() {
    let mut doc = create(&sample()).unwrap();
    assert_standing_agrees(&doc);
    let message = |n: u8, at| Message {
        id: MessageId::from_bytes([n; 16]),
        kind: MessageKind::Message,
        author: Author::Customer,
        body: format!("message {n}"),
        at,
        leave_unassigned: false,
    };
    // The latest time in a message, then in the activity trail.
    push_message(&mut doc, &message(1, 9_000)).unwrap();
    assert_standing_agrees(&doc);
    push_activity(
        &mut doc,
        &Activity {
            at: 12_000,
            by: By::Server,
            event: ActivityEvent::Resolved,
        },
    )
    .unwrap();
    write_status(&mut doc, Status::Resolved).unwrap();
    push_message(&mut doc, &message(2, 11_000)).unwrap();
    doc.commit();
    assert_standing_agrees(&doc);
    // Two concurrent assignments stay two competing values, the latest in one.
    let mut other = doc.fork();
    for (copy, agent, at) in [
        (&mut doc, "agt_ana", 13_000),
        (&mut other, "agt_ben", 20_000),
    ] {
        let assignment = Assignment {
            agent: Some(agent.parse().unwrap()),
            kind: AssignmentKind::Manual,
            by: By::Server,
            at,
        };
        write_assignment(copy, &assignment).unwrap();
        copy.commit();
    }
    doc.merge(&mut other).unwrap();
    assert_eq!(standing(&doc).unwrap().assignments.len(), 2);
    assert_eq!(standing(&doc).unwrap().latest_at, 20_000);
    assert_standing_agrees(&doc);
}
