//! Every operation of the seed, as an agent would notice it.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use baton_shared::conversation::read;
use baton_shared::model::{ActivityEvent, AssignmentKind, Author, By, MessageKind, Status};
use baton_shared::operations::{
    OpError, ReplyMode, assign, bulk_assign, customer_message, new_batch_id, note, reopen, reply,
    resolve, unassign,
};
use baton_shared::rules::RuleBroken;
use common::{NOW, new_conversation, team};

#[test]
fn the_first_agent_to_reply_becomes_the_assignee() {
    let t = team();
    let mut doc = new_conversation(1);
    let first = reply(
        &mut doc,
        &t.workspace,
        &t.ana,
        "Hello!",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap();
    assert!(first.claimed);
    let second = reply(
        &mut doc,
        &t.workspace,
        &t.ben,
        "Me too",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap();
    assert!(
        !second.claimed,
        "a reply to an assigned conversation never changes it"
    );
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.assignee(), Some(&t.ana));
    assert_eq!(
        conversation.effective_assignment().unwrap().kind,
        AssignmentKind::Reply
    );
    let last = conversation.activity.last().unwrap();
    assert_eq!(
        last.event,
        ActivityEvent::Claimed {
            agent: t.ana.clone()
        }
    );
    assert_eq!(conversation.messages.len(), 2);
}

#[test]
fn reply_and_leave_unassigned_keeps_it_unassigned() {
    let t = team();
    let mut doc = new_conversation(1);
    let mode = ReplyMode::LeaveUnassigned;
    let outcome = reply(&mut doc, &t.workspace, &t.ana, "Looking", mode, NOW).unwrap();
    assert!(!outcome.claimed);
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.assignee(), None);
    assert!(conversation.messages[0].leave_unassigned);
}

#[test]
fn each_operation_is_exactly_one_change() {
    let t = team();
    let mut doc = new_conversation(1);
    let by = By::Agent(t.admin.clone());
    let count = |doc: &mut automerge::AutoCommit| doc.get_changes(&[]).len();
    let start = count(&mut doc);
    reply(&mut doc, &t.workspace, &t.ana, "Hi", ReplyMode::Claim, NOW).unwrap();
    assert_eq!(count(&mut doc), start + 1);
    assign(&mut doc, &t.workspace, &by, Some(&t.ben), None, NOW).unwrap();
    assert_eq!(count(&mut doc), start + 2);
    note(&mut doc, &t.workspace, &t.ben, "VIP customer", NOW).unwrap();
    assert_eq!(count(&mut doc), start + 3);
}

#[test]
fn reassign_records_who_had_it_and_unassign_clears_it() {
    let t = team();
    let mut doc = new_conversation(1);
    let by = By::Agent(t.admin.clone());
    reply(&mut doc, &t.workspace, &t.ana, "Hi", ReplyMode::Claim, NOW).unwrap();
    let moved = assign(&mut doc, &t.workspace, &by, Some(&t.ben), None, NOW).unwrap();
    assert_eq!(moved.previous, Some(t.ana.clone()));
    assert!(moved.changed);
    let again = assign(&mut doc, &t.workspace, &by, Some(&t.ben), None, NOW).unwrap();
    assert!(
        !again.changed,
        "assigning to the current assignee writes nothing"
    );
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.assignee(), Some(&t.ben));
    assert_eq!(
        conversation.activity.last().unwrap().event,
        ActivityEvent::Assigned {
            agent: t.ben.clone(),
            previous: Some(t.ana.clone()),
            batch: None
        }
    );
    unassign(&mut doc, &t.workspace, &by, None, NOW).unwrap();
    assert_eq!(read(&doc).unwrap().assignee(), None);
}

#[test]
fn only_active_agents_can_be_assigned() {
    let t = team();
    let mut doc = new_conversation(1);
    let by = By::Agent(t.admin.clone());
    let err = assign(&mut doc, &t.workspace, &by, Some(&t.gone), None, NOW).unwrap_err();
    assert_eq!(
        err,
        OpError::Rule(RuleBroken::InactiveAgent(t.gone.clone()))
    );
    assert_eq!(read(&doc).unwrap().activity.len(), 1, "nothing was written");
}

#[test]
fn notes_never_change_the_assignee() {
    let t = team();
    let mut doc = new_conversation(1);
    note(
        &mut doc,
        &t.workspace,
        &t.ana,
        "Customer is a reseller",
        NOW,
    )
    .unwrap();
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.assignee(), None);
    assert_eq!(conversation.messages[0].kind, MessageKind::Note);
}

#[test]
fn resolve_and_reopen_round_trip_and_block_replies_meanwhile() {
    let t = team();
    let mut doc = new_conversation(1);
    let by = By::Agent(t.ana.clone());
    resolve(&mut doc, &by, NOW).unwrap();
    assert_eq!(resolve(&mut doc, &by, NOW), Err(OpError::AlreadyResolved));
    let err = reply(&mut doc, &t.workspace, &t.ana, "x", ReplyMode::Claim, NOW).unwrap_err();
    assert_eq!(err, OpError::Rule(RuleBroken::Resolved));
    reopen(&mut doc, &by, NOW).unwrap();
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.status, Status::Open);
    let events: Vec<_> = conversation
        .activity
        .iter()
        .map(|a| a.event.name())
        .collect();
    assert_eq!(events, ["created", "resolved", "reopened"]);
}

#[test]
fn a_customer_message_reopens_and_keeps_an_active_assignee() {
    let t = team();
    let mut doc = new_conversation(1);
    reply(
        &mut doc,
        &t.workspace,
        &t.ana,
        "Done",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap();
    resolve(&mut doc, &By::Agent(t.ana.clone()), NOW).unwrap();
    customer_message(&mut doc, &t.workspace, "Actually, one more thing", NOW).unwrap();
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.status, Status::Open);
    assert_eq!(conversation.assignee(), Some(&t.ana));
    assert_eq!(
        conversation.messages.last().unwrap().author,
        Author::Customer
    );
}

#[test]
fn a_customer_message_on_a_resolved_conversation_drops_a_deactivated_assignee() {
    let t = team();
    let mut doc = new_conversation(1);
    reply(&mut doc, &t.workspace, &t.cy, "Done", ReplyMode::Claim, NOW).unwrap();
    resolve(&mut doc, &By::Agent(t.cy.clone()), NOW).unwrap();
    let mut later = t.workspace.clone();
    later.agents.get_mut(&t.cy).unwrap().active = false;
    customer_message(&mut doc, &later, "Hello again", NOW).unwrap();
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.status, Status::Open);
    assert_eq!(conversation.assignee(), None);
}

#[test]
fn empty_and_oversized_messages_are_refused_with_a_reason() {
    let t = team();
    let mut doc = new_conversation(1);
    let mode = ReplyMode::Claim;
    assert_eq!(
        reply(&mut doc, &t.workspace, &t.ana, "   ", mode, NOW),
        Err(OpError::EmptyBody)
    );
    let huge = "x".repeat(baton_shared::limits::MAX_MESSAGE_BYTES + 1);
    let err = reply(&mut doc, &t.workspace, &t.ana, &huge, mode, NOW).unwrap_err();
    assert!(err.to_string().contains("limit"), "{err}");
}

#[test]
fn timestamps_move_forward_even_with_a_lagging_clock() {
    let t = team();
    let mut doc = new_conversation(1);
    reply(&mut doc, &t.workspace, &t.ana, "one", ReplyMode::Claim, NOW).unwrap();
    note(&mut doc, &t.workspace, &t.ana, "two", NOW - 60_000).unwrap();
    let conversation = read(&doc).unwrap();
    assert!(conversation.messages[1].at > conversation.messages[0].at);
}

#[test]
fn bulk_assign_reports_each_conversation_and_shares_one_batch() {
    let t = team();
    let mut docs: Vec<_> = (1..=5).map(new_conversation).collect();
    resolve(&mut docs[2], &By::Agent(t.ana.clone()), NOW).unwrap();
    let batch = new_batch_id();
    let by = By::Agent(t.admin.clone());
    let ids: Vec<_> = docs.iter().map(|d| read(d).unwrap().id).collect();
    let outcomes = bulk_assign(
        ids.iter().cloned().zip(docs.iter_mut()),
        &t.workspace,
        &by,
        Some(&t.ben),
        &batch,
        NOW,
    );
    assert_eq!(outcomes.len(), 5);
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome.conversation, ids[i]);
        if i == 2 {
            assert_eq!(outcome.result, Err(OpError::Rule(RuleBroken::Resolved)));
        } else {
            assert!(outcome.result.as_ref().unwrap().changed);
            let conversation = read(&docs[i]).unwrap();
            assert_eq!(conversation.assignee(), Some(&t.ben));
            let ActivityEvent::Assigned { batch: got, .. } =
                &conversation.activity.last().unwrap().event
            else {
                panic!("expected an assigned entry");
            };
            assert_eq!(got.as_ref(), Some(&batch));
        }
    }
}
