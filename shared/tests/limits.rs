//! One test per limit in `limits.rs`, each going one past it: what is
//! refused, by whom, and with which code.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ObjType, ROOT, ReadDoc, Value};
use baton_shared::limits::*;
use baton_shared::model::{Agent, By, Role};
use baton_shared::operations::{OpError, ReplyMode, assign, note, reply};
use baton_shared::validate::{
    Context, DocumentKind, OnlineHistory, Principal, Totals, Violation, Windows, change_shape,
    validate_change,
};
use baton_shared::workflow::{Condition, Step, Trigger, Workflow};
use baton_shared::workspace;
use common::{NOW, change_from, new_conversation, object_at, team, validate_as};

const CONV: DocumentKind = DocumentKind::Conversation;

fn ana() -> Principal {
    Principal::Agent(common::agent_id("ana"))
}

/// `n` notes of `body_len` bytes written straight into the document, in
/// one commit (as many as a long conversation gathers over months).
fn fill_messages(doc: &mut AutoCommit, n: usize, body_len: usize) {
    let messages = object_at(doc, "messages");
    let body = "n".repeat(body_len);
    for i in 0..n {
        let m = doc.insert_object(&messages, i, ObjType::Map).unwrap();
        doc.put(&m, "id", format!("msg_fill{i}")).unwrap();
        doc.put(&m, "kind", "note").unwrap();
        let a = doc.put_object(&m, "author", ObjType::Map).unwrap();
        doc.put(&a, "kind", "system").unwrap();
        doc.put(&a, "id", automerge::ScalarValue::Null).unwrap();
        doc.put(&m, "body", body.as_str()).unwrap();
        doc.put(&m, "at", NOW - 1_000).unwrap();
        doc.put(&m, "leave_unassigned", false).unwrap();
    }
    doc.commit();
}

fn too_large(err: &Violation, what: &str) {
    match err {
        Violation::TooLarge { what: w, .. } => assert!(w.contains(what), "{err}"),
        other => panic!("expected too_large for {what}, got {other}"),
    }
}

#[test]
fn max_message_bytes() {
    let t = team();
    let mut server = new_conversation(1);
    let body = "x".repeat(MAX_MESSAGE_BYTES + 1);
    let err = note(&mut server.fork(), &t.workspace, &t.ana, &body, NOW).unwrap_err();
    assert!(matches!(err, OpError::TooLarge { .. }));
    let fits = "x".repeat(MAX_MESSAGE_BYTES);
    let change = change_from(&mut server, |d| {
        note(d, &t.workspace, &t.ana, &fits, NOW).unwrap();
    });
    validate_as(&mut server, &change, &ana(), &t.workspace, CONV).unwrap();
}

#[test]
fn max_messages_and_a_full_conversation_still_takes_assignments() {
    let t = team();
    let mut server = new_conversation(1);
    fill_messages(&mut server, MAX_MESSAGES, 4);
    let err = note(&mut server.fork(), &t.workspace, &t.ana, "one more", NOW).unwrap_err();
    assert!(matches!(err, OpError::ConversationFull { .. }), "{err}");
    // Written by hand anyway, it is refused on the server.
    let change = change_from(&mut server, |d| {
        let messages = object_at(d, "messages");
        let m = d
            .insert_object(&messages, MAX_MESSAGES, ObjType::Map)
            .unwrap();
        d.put(&m, "id", "msg_extra").unwrap();
        d.put(&m, "kind", "note").unwrap();
        let a = d.put_object(&m, "author", ObjType::Map).unwrap();
        d.put(&a, "kind", "agent").unwrap();
        d.put(&a, "id", t.ana.as_str()).unwrap();
        d.put(&m, "body", "one more").unwrap();
        d.put(&m, "at", NOW).unwrap();
        d.put(&m, "leave_unassigned", false).unwrap();
    });
    let err = validate_as(&mut server, &change, &ana(), &t.workspace, CONV).unwrap_err();
    too_large(&err, "messages");
    // Adding no message, an assignment still goes through.
    let change = change_from(&mut server, |d| {
        assign(
            d,
            &t.workspace,
            &By::Agent(t.ana.clone()),
            Some(&t.ben),
            None,
            NOW,
        )
        .unwrap();
    });
    validate_as(&mut server, &change, &ana(), &t.workspace, CONV).unwrap();
}

#[test]
fn max_conversation_bytes() {
    let t = team();
    let mut server = new_conversation(1);
    fill_messages(
        &mut server,
        MAX_CONVERSATION_BYTES / MAX_MESSAGE_BYTES,
        MAX_MESSAGE_BYTES,
    );
    let err = reply(
        &mut server.fork(),
        &t.workspace,
        &t.ana,
        "hi",
        ReplyMode::Claim,
        NOW,
    )
    .unwrap_err();
    assert!(matches!(err, OpError::ConversationFull { .. }), "{err}");
}

#[test]
fn max_activity() {
    use baton_shared::model::{Activity, ActivityEvent};
    let mut full = baton_shared::conversation::read(&new_conversation(1)).unwrap();
    let entry = Activity {
        at: NOW,
        by: By::Server,
        event: ActivityEvent::Resolved,
    };
    full.activity = vec![entry; MAX_ACTIVITY - 1];
    baton_shared::operations::check_room(&full, None, true).unwrap();
    full.activity.push(full.activity[0].clone());
    let err = baton_shared::operations::check_room(&full, None, true).unwrap_err();
    assert!(matches!(err, OpError::ConversationFull { .. }), "{err}");
    // A message still fits where an entry does not.
    baton_shared::operations::check_room(&full, Some("hi"), false).unwrap();
}

#[test]
fn max_assignments() {
    let t = team();
    let mut server = new_conversation(1);
    let base = server.get_heads();
    let by = By::Agent(t.ana.clone());
    for i in 0..MAX_ASSIGNMENTS {
        let mut fork = server.fork_at(&base).unwrap().with_actor(ActorId::random());
        let to = if i % 2 == 0 { &t.ben } else { &t.cy };
        assign(&mut fork, &t.workspace, &by, Some(to), None, NOW + i as i64).unwrap();
        server.merge(&mut fork).unwrap();
    }
    let values = baton_shared::conversation::read(&server)
        .unwrap()
        .assignments
        .len();
    assert_eq!(values, MAX_ASSIGNMENTS);
    let mut late = server.fork_at(&base).unwrap().with_actor(ActorId::random());
    assign(&mut late, &t.workspace, &by, Some(&t.ana), None, NOW).unwrap();
    let change = late.get_last_local_change().unwrap();
    let err = validate_as(&mut server, &change, &ana(), &t.workspace, CONV).unwrap_err();
    too_large(&err, "competing assignments");
}

#[test]
fn max_field_bytes_and_max_workspace_entries() {
    let t = team();
    let mut server = t.doc.clone();
    let admin = Principal::Admin(t.admin.clone());
    let mut settings = t.workspace.settings.clone();
    settings.name = "n".repeat(MAX_FIELD_BYTES + 1);
    let change = change_from(&mut server, |d| {
        workspace::put_settings(d, &settings, NOW).unwrap();
    });
    let err = validate_as(
        &mut server,
        &change,
        &admin,
        &t.workspace,
        DocumentKind::Workspace,
    )
    .unwrap_err();
    too_large(&err, "workspace name");

    // A workspace at its size: the server's next agent is refused.
    let agents = match server.get(ROOT, "agents").unwrap() {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => panic!("agents"),
    };
    for i in t.workspace.agents.len()..MAX_WORKSPACE_ENTRIES {
        let a = server
            .put_object(&agents, format!("agt_fill{i}"), ObjType::Map)
            .unwrap();
        for (k, v) in [("name", "F"), ("email", "f@x"), ("role", "agent")] {
            server.put(&a, k, v).unwrap();
        }
        server.put(&a, "active", true).unwrap();
        server.put(&a, "away", false).unwrap();
        server
            .put(&a, "capacity", automerge::ScalarValue::Null)
            .unwrap();
    }
    server.commit();
    let ws = workspace::read(&server).unwrap();
    let one_more = Agent {
        id: "agt_onemore".parse().unwrap(),
        name: "One more".to_owned(),
        email: "one@more".to_owned(),
        role: Role::Agent,
        active: true,
        away: false,
        capacity: None,
    };
    let change = change_from(&mut server, |d| {
        workspace::put_agent(d, &one_more, NOW).unwrap()
    });
    let err = validate_as(
        &mut server,
        &change,
        &Principal::Server,
        &ws,
        DocumentKind::Workspace,
    )
    .unwrap_err();
    too_large(&err, "agents");
}

#[test]
fn workflow_limits() {
    let t = team();
    let mut wf = Workflow::new("W", Trigger::CustomerMessage, &t.workspace);
    wf.steps = vec![Step::Unassign; MAX_WORKFLOW_PARTS + 1];
    assert!(wf.check_shape().is_err(), "parts");
    wf.steps = vec![Step::Note {
        body: "n".repeat(MAX_WORKFLOW_NOTE_BYTES + 1),
    }];
    assert!(wf.check_shape().is_err(), "note");
    wf.steps = vec![Step::RoundRobin {
        agents: vec![t.ana.clone(); MAX_WORKFLOW_LIST + 1],
    }];
    assert!(wf.check_shape().is_err(), "list");
    wf.steps = vec![Step::Unassign];
    wf.conditions = vec![Condition::EmailDomain {
        domains: vec!["example.com".to_owned(); MAX_WORKFLOW_LIST + 1],
    }];
    assert!(wf.check_shape().is_err(), "domains");
    wf.conditions = vec![];
    wf.trigger = Trigger::UnassignedFor {
        minutes: MAX_UNASSIGNED_MINUTES + 1,
    };
    assert!(wf.check_shape().is_err(), "minutes");
    wf.trigger = Trigger::CustomerMessage;
    wf.check_shape().unwrap();
    let mut ws = t.workspace.clone();
    for i in 0..MAX_WORKFLOWS {
        let mut w = wf.clone();
        w.id = format!("wf_{i}").parse().unwrap();
        ws.workflows.insert(w.id.clone(), w);
    }
    let mut doc = t.doc.clone();
    for w in ws.workflows.values() {
        workspace::put_workflow(&mut doc, w, NOW).unwrap();
    }
    let err = workspace::put_workflow(&mut doc, &wf, NOW).unwrap_err();
    assert!(err.to_string().contains("at most"), "{err}");
}

/// A change written by hand: `edit` changes its expanded form.
fn forged(edit: impl FnOnce(&mut automerge::ExpandedChange)) -> Change {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "k", "v").unwrap();
    doc.commit();
    let mut expanded = doc.get_last_local_change().unwrap().decode();
    edit(&mut expanded);
    expanded.hash = None;
    Change::from(expanded)
}

#[test]
fn change_limits_are_read_from_the_chunk_before_anything_else() {
    let cases: Vec<(&str, Change)> = vec![
        (
            "dependencies",
            forged(|c| {
                c.deps = (0..=MAX_CHANGE_DEPS)
                    .map(|i| {
                        let mut hash = [0u8; 32];
                        hash[..8].copy_from_slice(&(i as u64).to_le_bytes());
                        ChangeHash(hash)
                    })
                    .collect()
            }),
        ),
        (
            "message",
            forged(|c| c.message = Some("m".repeat(MAX_CHANGE_MESSAGE_BYTES + 1))),
        ),
        (
            "operations",
            forged(|c| {
                let op = c.operations[0].clone();
                c.operations = vec![op; MAX_CHANGE_OPS + 1];
            }),
        ),
        (
            "the change",
            forged(|c| {
                c.operations[0].action =
                    automerge::legacy::OpType::Put("b".repeat(MAX_CHANGE_BYTES).into());
            }),
        ),
    ];
    for (what, change) in cases {
        let err = change_shape(change.raw_bytes()).unwrap_err();
        too_large(&err, what);
    }
    let long_actor = forged(|c| c.actor_id = ActorId::from(vec![7u8; MAX_ACTOR_BYTES + 1]));
    assert!(change_shape(long_actor.raw_bytes()).is_err(), "actor");
}

#[test]
fn document_totals() {
    let t = team();
    let mut server = new_conversation(1);
    let change = change_from(&mut server, |d| {
        note(d, &t.workspace, &t.ana, "hi", NOW).unwrap();
    });
    let online = OnlineHistory::default();
    for stored in [
        Totals {
            ops: MAX_CONVERSATION_OPS,
            bytes: 0,
        },
        Totals {
            ops: 0,
            bytes: MAX_DOCUMENT_BYTES,
        },
    ] {
        let ctx = Context {
            principal: &ana(),
            workspace: &t.workspace,
            now: NOW,
            online: &online,
            stored,
        };
        let err = validate_change(&mut server, &change, CONV, &ctx).unwrap_err();
        assert_eq!(err.code(), "document_full", "{err}");
        assert!(
            err.to_string().contains("start a new conversation"),
            "{err}"
        );
    }
    // The workspace has its own, larger bound.
    let mut ws = t.doc.clone();
    let change = change_from(&mut ws, |d| {
        workspace::set_away(d, &t.ana, true, NOW).unwrap();
    });
    let ctx = Context {
        principal: &ana(),
        workspace: &t.workspace,
        now: NOW,
        online: &online,
        stored: Totals {
            ops: MAX_WORKSPACE_OPS,
            bytes: 0,
        },
    };
    let err = validate_change(&mut ws, &change, DocumentKind::Workspace, &ctx).unwrap_err();
    assert_eq!(err.code(), "document_full", "{err}");
}

#[test]
fn time_limits() {
    let t = team();
    let mut server = new_conversation(1);
    let change = change_from(&mut server, |d| {
        note(
            d,
            &t.workspace,
            &t.ana,
            "later",
            NOW + MAX_CLOCK_SKEW_MS + 1,
        )
        .unwrap();
    });
    let err = validate_as(&mut server, &change, &ana(), &t.workspace, CONV).unwrap_err();
    assert_eq!(err.code(), "time_in_future");
}

#[test]
fn online_windows() {
    use baton_shared::validate::Span;
    let minute = 60_000;
    // Online from 0 to 60 minutes, back at 120.
    let history = OnlineHistory {
        first: Some(0),
        spans: vec![
            Span {
                start: 0,
                end: Some(60 * minute),
            },
            Span {
                start: 120 * minute,
                end: None,
            },
        ],
        windows: Windows::default(),
    };
    let end = 60 * minute;
    // Within the end margin of a connection, a timestamp may be offline work.
    assert!(!history.online_at(end - ONLINE_END_MARGIN_MS + 1));
    assert!(history.online_at(end - ONLINE_END_MARGIN_MS));
    // Within the start margin of one, too.
    assert!(!history.online_at(ONLINE_START_MARGIN_MS - 1));
    assert!(history.online_at(ONLINE_START_MARGIN_MS));
    // Offline work arrives within the replay window of the return.
    let back = 120 * minute;
    assert!(history.judge(90 * minute, back + OFFLINE_REPLAY_MS).is_ok());
    assert!(
        history
            .judge(90 * minute, back + OFFLINE_REPLAY_MS + 1)
            .is_err()
    );
    // Online work arrives within the clock's grace.
    let at = 130 * minute;
    assert!(history.judge(at, at + MAX_CLOCK_SKEW_MS).is_ok());
    assert!(history.judge(at, at + MAX_CLOCK_SKEW_MS + 1).is_err());
}

#[test]
fn max_key_bytes() {
    let t = team();
    let mut server = t.doc.clone();
    let ana = Principal::Agent(t.ana.clone());
    let change = change_from(&mut server, |d| {
        let subs = match d.get(ROOT, "subscriptions").unwrap() {
            Some((Value::Object(ObjType::Map), id)) => id,
            _ => panic!("subscriptions"),
        };
        let mine = match d.get(&subs, t.ana.as_str()).unwrap() {
            Some((Value::Object(ObjType::Map), id)) => id,
            _ => panic!("Ana's subscriptions"),
        };
        d.put(&mine, "k".repeat(MAX_KEY_BYTES + 1), false).unwrap();
    });
    let err = validate_as(
        &mut server,
        &change,
        &ana,
        &t.workspace,
        DocumentKind::Workspace,
    )
    .unwrap_err();
    too_large(&err, "key");
}

#[test]
fn max_change_column_values_and_other_actors() {
    let many = forged(|c| {
        let op = c.operations[0].clone();
        c.operations = vec![op; MAX_CHANGE_COLUMN_VALUES + 1];
    });
    too_large(&change_shape(many.raw_bytes()).unwrap_err(), "column");
    let actors = forged(|c| {
        let preds: Vec<automerge::legacy::OpId> = (0..=MAX_CHANGE_ACTORS)
            .map(|_| automerge::legacy::OpId::new(1, &ActorId::random()))
            .collect();
        c.operations[0].pred = preds.into();
    });
    too_large(&change_shape(actors.raw_bytes()).unwrap_err(), "actors");
}

#[test]
fn max_changes_per_message() {
    let one = forged(|_| {});
    let joined: Vec<u8> = (0..=MAX_CHANGES_PER_MESSAGE)
        .flat_map(|_| one.raw_bytes().to_vec())
        .collect();
    too_large(
        &baton_shared::validate::split_changes(&joined).unwrap_err(),
        "changes",
    );
}
