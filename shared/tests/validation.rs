//! One test per violation kind, and honest operations that must validate.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjType, ROOT, ReadDoc};
use baton_shared::conversation::read;
use baton_shared::ids::AgentId;
use baton_shared::model::{By, Role};
use baton_shared::operations::{
    ReplyMode, assign, correct, customer_message, note, reopen, reply, resolve, unassign,
};
use baton_shared::validate::{DocumentKind, Principal, Violation};
use baton_shared::workspace;
use common::{
    HandWritten, NOW, Team, change_from, new_conversation, object_at, replica, team, validate_as,
};

const CONV: DocumentKind = DocumentKind::Conversation;
const WS: DocumentKind = DocumentKind::Workspace;

fn agent(t: &Team, who: &AgentId) -> Principal {
    if t.workspace.is_admin(who) {
        Principal::Admin(who.clone())
    } else {
        Principal::Agent(who.clone())
    }
}

/// Applies an honest operation on a client replica and validates it at the server.
fn honest(
    t: &Team,
    server: &mut AutoCommit,
    principal: &Principal,
    op: impl FnOnce(&mut AutoCommit),
) -> AutoCommit {
    let change = change_from(server, op);
    validate_as(server, &change, principal, &t.workspace, CONV)
        .unwrap_or_else(|v| panic!("an honest change was refused: {v}"))
}

#[test]
fn every_honest_conversation_operation_validates() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    let ws = &t.workspace;
    server = honest(&t, &mut server, &ana, |d| {
        reply(d, ws, &t.ana, "Hi", ReplyMode::Claim, NOW).unwrap();
    });
    server = honest(&t, &mut server, &ana, |d| {
        reply(d, ws, &t.ana, "More", ReplyMode::LeaveUnassigned, NOW).unwrap();
    });
    server = honest(&t, &mut server, &ana, |d| {
        note(d, ws, &t.ana, "note", NOW).unwrap();
    });
    let by = By::Agent(t.ana.clone());
    server = honest(&t, &mut server, &ana, |d| {
        assign(d, ws, &by, Some(&t.ben), None, NOW).unwrap();
    });
    server = honest(&t, &mut server, &ana, |d| {
        unassign(d, ws, &by, None, NOW).unwrap();
    });
    server = honest(&t, &mut server, &ana, |d| resolve(d, &by, NOW).unwrap());
    server = honest(&t, &mut server, &ana, |d| reopen(d, &by, NOW).unwrap());
    let integration = Principal::Integration(t.ben.clone());
    server = honest(&t, &mut server, &integration, |d| {
        reply(d, ws, &t.ben, "via API", ReplyMode::Claim, NOW).unwrap();
    });
    let server_principal = Principal::Server;
    let server = honest(&t, &mut server, &server_principal, |d| {
        customer_message(d, ws, "Thanks!", NOW).unwrap();
    });
    assert_eq!(read(&server).unwrap().messages.len(), 5);
}

#[test]
fn agents_change_their_own_subscriptions_and_away_state() {
    let t = team();
    let mut server = t.doc.clone();
    let ana = agent(&t, &t.ana);
    for change in [
        change_from(&mut server, |d| {
            workspace::set_subscription(d, &t.ana, &t.email, false, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            workspace::set_away(d, &t.ana, true, NOW).unwrap();
        }),
    ] {
        server = validate_as(&mut server, &change, &ana, &t.workspace, WS).unwrap();
    }
    // Cy signs up for the first time (creating their subscription map).
    let cy = agent(&t, &t.cy);
    let change = change_from(&mut server, |d| {
        workspace::set_subscription(d, &t.cy, &t.email, true, NOW).unwrap();
    });
    validate_as(&mut server, &change, &cy, &t.workspace, WS).unwrap();
}

#[test]
fn non_admins_cannot_touch_admin_fields() {
    let t = team();
    let mut server = t.doc.clone();
    let ana = agent(&t, &t.ana);
    let mut promoted = t.workspace.agent(&t.ana).unwrap().clone();
    promoted.role = Role::Admin;
    let cases = [
        change_from(&mut server, |d| {
            workspace::put_agent(d, &promoted, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            let mut channel = t.workspace.channels[&t.email].clone();
            channel.name = "Spam".to_owned();
            workspace::put_channel(d, &channel, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            workspace::set_subscription(d, &t.ben, &t.email, false, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            workspace::set_away(d, &t.ben, true, NOW).unwrap();
        }),
        change_from(&mut server, |d| {
            let mut settings = t.workspace.settings.clone();
            settings.only_assignee_replies = true;
            workspace::put_settings(d, &settings, NOW).unwrap();
        }),
    ];
    for change in &cases {
        let err = validate_as(&mut server, change, &ana, &t.workspace, WS).unwrap_err();
        assert!(matches!(err, Violation::AdminOnly { .. }), "{err}");
    }
    // From an admin, settings are fine; agents, channels and another
    // agent's choices change only through the team API.
    let admin = agent(&t, &t.admin);
    for change in &cases[..4] {
        let err = validate_as(&mut server, change, &admin, &t.workspace, WS).unwrap_err();
        assert!(matches!(err, Violation::ApiOnly { .. }), "{err}");
    }
    validate_as(&mut server, &cases[4], &admin, &t.workspace, WS).unwrap();
    // An integration token never has admin rights, even an admin's.
    let token = Principal::Integration(t.admin.clone());
    let err = validate_as(&mut server, &cases[0], &token, &t.workspace, WS).unwrap_err();
    assert!(matches!(err, Violation::AdminOnly { .. }));
}

fn refused(
    t: &Team,
    server: &mut AutoCommit,
    who: &Principal,
    write: impl FnOnce(&mut AutoCommit),
) -> Violation {
    let change = change_from(server, write);
    let before = server.get_heads();
    let err = validate_as(server, &change, who, &t.workspace, CONV).unwrap_err();
    assert_eq!(
        server.get_heads(),
        before,
        "a refused change leaves nothing behind"
    );
    err
}

#[test]
fn a_message_authored_as_someone_else_or_the_customer_is_refused() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    let err = refused(&t, &mut server, &ana, |d| {
        reply(
            d,
            &t.workspace,
            &t.ben,
            "I am Ben",
            ReplyMode::LeaveUnassigned,
            NOW,
        )
        .unwrap();
    });
    assert!(matches!(err, Violation::ForgedAuthor { .. }), "{err}");
    let err = refused(&t, &mut server, &ana, |d| {
        customer_message(d, &t.workspace, "I am the customer", NOW).unwrap();
    });
    assert_eq!(
        err,
        Violation::ForgedAuthor {
            claimed: "the customer".to_owned()
        }
    );
}

#[test]
fn system_activity_written_by_an_agent_is_refused() {
    let t = team();
    let ana = agent(&t, &t.ana);
    // Two concurrent claims, then an agent tries to settle them itself.
    let mut server = new_conversation(1);
    let mut other = replica(&mut server);
    reply(
        &mut server,
        &t.workspace,
        &t.ana,
        "a",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap();
    reply(&mut other, &t.workspace, &t.ben, "b", ReplyMode::Claim, NOW).unwrap();
    server.merge(&mut other).unwrap();
    let err = refused(&t, &mut server, &ana, |d| {
        baton_shared::operations::settle(d, NOW).unwrap();
    });
    assert!(matches!(err, Violation::SystemActivity { .. }), "{err}");
    // A workflow assignment written by an agent.
    let mut server = new_conversation(2);
    let err = refused(&t, &mut server, &ana, |d| {
        let by = By::Workflow("wf_sneaky".parse().unwrap());
        assign(d, &t.workspace, &by, Some(&t.ana), None, NOW).unwrap();
    });
    assert!(matches!(err, Violation::SystemActivity { .. }), "{err}");
}

#[test]
fn a_by_that_is_not_the_principal_is_refused() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    let err = refused(&t, &mut server, &ana, |d| {
        assign(
            d,
            &t.workspace,
            &By::Agent(t.ben.clone()),
            Some(&t.cy),
            None,
            NOW,
        )
        .unwrap();
    });
    assert!(matches!(err, Violation::ForgedBy { .. }), "{err}");
}

#[test]
fn changing_id_channel_or_customer_is_refused() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    for (key, value) in [
        ("id", "cnv_other"),
        ("channel", "chn_other"),
        ("subject", "Hijacked"),
    ] {
        let err = refused(&t, &mut server, &ana, |d| d.put(ROOT, key, value).unwrap());
        assert!(
            matches!(err, Violation::ImmutableField { .. }),
            "{key}: {err}"
        );
    }
    let err = refused(&t, &mut server, &ana, |d| {
        let customer = object_at(d, "customer");
        d.put(&customer, "email", "attacker@evil.test").unwrap();
    });
    assert_eq!(
        err,
        Violation::ImmutableField {
            field: "customer".to_owned()
        }
    );
}

#[test]
fn editing_or_deleting_a_message_is_refused() {
    let t = team();
    let mut server = new_conversation(1);
    customer_message(&mut server, &t.workspace, "My order is late", NOW).unwrap();
    let ana = agent(&t, &t.ana);
    let err = refused(&t, &mut server, &ana, |d| {
        let messages = object_at(d, "messages");
        let Some((_, first)) = d.get(&messages, 0).unwrap() else {
            panic!()
        };
        d.put(&first, "body", "My order is fine").unwrap();
    });
    assert!(matches!(err, Violation::EditedMessage { .. }), "{err}");
    let err = refused(&t, &mut server, &ana, |d| {
        let messages = object_at(d, "messages");
        d.delete(&messages, 0).unwrap();
    });
    assert!(matches!(err, Violation::EditedMessage { .. }), "{err}");
}

#[test]
fn rewriting_the_activity_trail_or_an_assignment_is_refused() {
    let t = team();
    let mut server = new_conversation(1);
    reply(
        &mut server,
        &t.workspace,
        &t.ana,
        "Hi",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap();
    let ben = agent(&t, &t.ben);
    let err = refused(&t, &mut server, &ben, |d| {
        let activity = object_at(d, "activity");
        d.delete(&activity, 1).unwrap();
    });
    assert_eq!(err, Violation::EditedActivity);
    let err = refused(&t, &mut server, &ben, |d| {
        let assignee = object_at(d, "assignee");
        d.put(&assignee, "agent", t.ben.as_str()).unwrap();
    });
    assert_eq!(err, Violation::EditedAssignment);
}

#[test]
fn timestamps_must_not_go_back_or_run_ahead() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    // The client's clock says the change happened before the conversation existed.
    let err = refused(&t, &mut server, &ana, |d| {
        let early = HandWritten {
            body: "back in time".to_owned(),
            at: NOW - 1_000_000,
            ..HandWritten::note_by(&t.ana)
        };
        early.insert(d);
    });
    assert!(
        matches!(err, Violation::TimeBeforeDependencies { .. }),
        "{err}"
    );
    let err = refused(&t, &mut server, &ana, |d| {
        note(d, &t.workspace, &t.ana, "from the future", NOW + 61_000).unwrap();
    });
    assert!(matches!(err, Violation::TimeInFuture { .. }), "{err}");
    // 59 s ahead is a slow-running server clock, not a forgery.
    let change = change_from(&mut server, |d| {
        note(d, &t.workspace, &t.ana, "fast clock", NOW + 59_000).unwrap();
    });
    validate_as(&mut server, &change, &ana, &t.workspace, CONV).unwrap();
}

#[test]
fn oversized_messages_and_changes_are_refused() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    let err = refused(&t, &mut server, &ana, |d| {
        let body: String = (0..70_000)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        let big = HandWritten {
            body,
            ..HandWritten::note_by(&t.ana)
        };
        big.insert(d);
    });
    assert!(matches!(err, Violation::TooLarge { .. }), "{err}");
}

#[test]
fn assigning_to_an_inactive_agent_is_refused() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    let mut stale = t.workspace.clone();
    stale.agents.get_mut(&t.gone).unwrap().active = true;
    let err = refused(&t, &mut server, &ana, |d| {
        // The client still thinks the agent is active.
        assign(
            d,
            &stale,
            &By::Agent(t.ana.clone()),
            Some(&t.gone),
            None,
            NOW,
        )
        .unwrap();
    });
    assert_eq!(
        err,
        Violation::InactiveAssignee {
            agent: t.gone.clone()
        }
    );
}

#[test]
fn state_rules_are_judged_at_the_change_dependencies() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    // Ben replies to the open conversation while offline; meanwhile Ana resolves it.
    let mut offline = replica(&mut server);
    reply(
        &mut offline,
        &t.workspace,
        &t.ben,
        "Sorry!",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap();
    let late = offline.get_last_local_change().unwrap();
    let resolved = change_from(&mut server, |d| {
        resolve(d, &By::Agent(t.ana.clone()), NOW).unwrap()
    });
    server = validate_as(&mut server, &resolved, &ana, &t.workspace, CONV).unwrap();
    // At its dependencies the conversation was open: accepted.
    let ben = agent(&t, &t.ben);
    validate_as(&mut server, &late, &ben, &t.workspace, CONV).unwrap();
    // A reply written after seeing the resolution is refused.
    let err = refused(&t, &mut server, &ben, |d| {
        let late = HandWritten {
            kind: "message",
            body: "hello?".to_owned(),
            at: NOW + 10,
            leave_unassigned: true,
            ..HandWritten::note_by(&t.ben)
        };
        late.insert(d);
    });
    assert_eq!(err, Violation::ConversationResolved);
}

#[test]
fn concurrency_made_wrong_is_accepted_then_corrected_by_the_server() {
    let t = team();
    let mut server = new_conversation(1);
    let mut a = replica(&mut server);
    let mut b = replica(&mut server);
    reply(&mut a, &t.workspace, &t.ana, "first", ReplyMode::Claim, NOW).unwrap();
    reply(
        &mut b,
        &t.workspace,
        &t.ben,
        "second",
        ReplyMode::Claim,
        NOW + 5,
    )
    .unwrap();
    let from_a = a.get_last_local_change().unwrap();
    let from_b = b.get_last_local_change().unwrap();
    server = validate_as(&mut server, &from_a, &agent(&t, &t.ana), &t.workspace, CONV).unwrap();
    server = validate_as(&mut server, &from_b, &agent(&t, &t.ben), &t.workspace, CONV).unwrap();
    assert_eq!(read(&server).unwrap().assignments.len(), 2);
    let corrections = correct(&mut server, &t.workspace, NOW + 10).unwrap();
    assert_eq!(corrections.len(), 1);
    let conversation = read(&server).unwrap();
    assert_eq!(conversation.assignments.len(), 1);
    assert_eq!(conversation.assignee(), Some(&t.ana), "first to reply wins");
    // The correction itself is a valid server change.
    assert!(
        correct(&mut server, &t.workspace, NOW + 20)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_server_unassigns_a_deactivated_assignee() {
    let t = team();
    let mut server = new_conversation(1);
    reply(
        &mut server,
        &t.workspace,
        &t.cy,
        "hi",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap();
    let mut later = t.workspace.clone();
    later.agents.get_mut(&t.cy).unwrap().active = false;
    let done = correct(&mut server, &later, NOW).unwrap();
    assert_eq!(
        done,
        vec![baton_shared::operations::Correction::Unassigned {
            previous: t.cy.clone()
        }]
    );
    assert_eq!(read(&server).unwrap().assignee(), None);
}

#[test]
fn only_the_server_creates_documents_and_dependencies_must_be_known() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    let mut fresh = new_conversation(9);
    let created = fresh.get_last_local_change().unwrap();
    let err = validate_as(&mut server, &created, &ana, &t.workspace, CONV).unwrap_err();
    assert_eq!(err, Violation::CreatesDocument);
    // A change on top of one the server never saw.
    let mut client = replica(&mut server);
    note(&mut client, &t.workspace, &t.ana, "one", NOW).unwrap();
    note(&mut client, &t.workspace, &t.ana, "two", NOW).unwrap();
    let second = client.get_last_local_change().unwrap();
    let err = validate_as(&mut server, &second, &ana, &t.workspace, CONV).unwrap_err();
    assert_eq!(err, Violation::MissingDependencies);
}

#[test]
fn unknown_fields_make_a_change_malformed() {
    let t = team();
    let mut server = new_conversation(1);
    let err = refused(&t, &mut server, &agent(&t, &t.ana), |d| {
        d.put(ROOT, "priority", "urgent").unwrap();
    });
    assert!(matches!(err, Violation::Malformed { .. }), "{err}");
    // Inside nested maps and lists too, whatever the field's position: no
    // existing object takes a write, and a new one must read right.
    type Write = Box<dyn FnOnce(&mut AutoCommit)>;
    let writes: [(&str, &str, Write); 4] = [
        (
            "edited_activity",
            "an unknown key in an activity entry",
            Box::new(|d: &mut AutoCommit| {
                let activity = object_at(d, "activity");
                let entry = d.get(&activity, 0).unwrap().unwrap().1;
                d.put(&entry, "zz_extra", 1).unwrap();
            }),
        ),
        (
            "immutable_field",
            "an unknown key in the customer",
            Box::new(|d: &mut AutoCommit| {
                let customer = object_at(d, "customer");
                d.put(&customer, "aa_extra", "x").unwrap();
            }),
        ),
        (
            "immutable_field",
            "a number where the subject's text belongs",
            Box::new(|d: &mut AutoCommit| d.put(ROOT, "subject", 7).unwrap()),
        ),
        (
            "malformed",
            "a plain value among the activity entries",
            Box::new(|d: &mut AutoCommit| {
                let activity = object_at(d, "activity");
                d.insert(&activity, 0, "not a map").unwrap();
            }),
        ),
    ];
    for (code, what, write) in writes {
        let err = refused(&t, &mut server, &agent(&t, &t.ana), write);
        assert_eq!(err.code(), code, "{what}: {err}");
    }
}

#[test]
fn only_the_assignee_replies_when_the_workspace_says_so() {
    let mut t = team();
    t.workspace.settings.only_assignee_replies = true;
    let mut server = new_conversation(1);
    reply(
        &mut server,
        &t.workspace,
        &t.ana,
        "mine",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap();
    let mut loose = t.workspace.clone();
    loose.settings.only_assignee_replies = false;
    let err = refused(&t, &mut server, &agent(&t, &t.ben), |d| {
        reply(d, &loose, &t.ben, "me too", ReplyMode::Claim, NOW).unwrap();
    });
    assert_eq!(err, Violation::NotAssignee);
    // Notes are still fine.
    let change = change_from(&mut server, |d| {
        note(d, &t.workspace, &t.ben, "fyi", NOW).unwrap();
    });
    validate_as(&mut server, &change, &agent(&t, &t.ben), &t.workspace, CONV).unwrap();
}

#[test]
fn violations_have_stable_codes_and_readable_text() {
    let v = Violation::ForgedBy {
        by: "agt_ben".to_owned(),
        principal: "agent agt_ana".to_owned(),
    };
    assert_eq!(v.code(), "forged_by");
    assert_eq!(
        v.to_string(),
        "the change says it was made by agt_ben, but it was sent by agent agt_ana"
    );
}

#[test]
fn an_activity_entry_must_match_what_its_change_did() {
    let t = team();
    let mut server = new_conversation(1);
    let ana = agent(&t, &t.ana);
    let me = t.ana.as_str().to_owned();
    let entry = |d: &mut AutoCommit, fields: &[(&str, &str)], at: i64| {
        let activity = object_at(d, "activity");
        let e = d
            .insert_object(&activity, d.length(&activity), ObjType::Map)
            .unwrap();
        d.put(&e, "at", at).unwrap();
        for (k, v) in fields {
            d.put(&e, *k, *v).unwrap();
        }
    };
    // "Reopened" with no status change (it would fire reopen workflows).
    let err = refused(&t, &mut server, &ana, |d| {
        entry(d, &[("by", &me), ("event", "reopened")], NOW);
    });
    assert_eq!(err.code(), "inconsistent", "{err}");
    // "Ben claimed it", written by Ana.
    let err = refused(&t, &mut server, &ana, |d| {
        entry(
            d,
            &[("by", &me), ("event", "claimed"), ("agent", t.ben.as_str())],
            NOW,
        );
    });
    assert_eq!(err.code(), "inconsistent", "{err}");
    // A status written with no entry to say so.
    let err = refused(&t, &mut server, &ana, |d| {
        d.put(ROOT, "status", "resolved").unwrap();
    });
    assert_eq!(err.code(), "inconsistent", "{err}");
}
