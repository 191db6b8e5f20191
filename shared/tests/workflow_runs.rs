//! Running workflows on conversation documents: what they write, who is
//! told, exactly once per event, and a person's decision beating them.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use automerge::AutoCommit;
use baton_shared::conversation::read;
use baton_shared::ids::AgentId;
use baton_shared::model::{ActivityEvent, AssignmentKind, Author, By, MessageKind};
use baton_shared::notify::{Event, Reason, recipients};
use baton_shared::operations::{
    Correction, ReplyMode, assign, correct, customer_message, reply, resolve,
};
use baton_shared::workflow::{
    Condition, EventKind, Outcome, Pick, Runner, Step, StepResult, Trigger, TriggerEvent, Workflow,
    events_between,
};
use baton_shared::workspace::{self, Workspace};
use common::{NOW, Team, new_conversation, replica, team};

fn save(t: &mut Team, name: &str, trigger: Trigger, steps: Vec<Step>) -> Workflow {
    let mut workflow = Workflow::new(name, trigger, &t.workspace);
    workflow.steps = steps;
    workspace::put_workflow(&mut t.doc, &workflow, NOW - 1_000).unwrap();
    t.workspace = workspace::read(&t.doc).unwrap();
    workflow
}

/// A new conversation with its first customer message, and the events it made.
fn incoming(t: &Team, n: u8, body: &str) -> (AutoCommit, Vec<TriggerEvent>) {
    let mut doc = new_conversation(n);
    customer_message(&mut doc, &t.workspace, body, NOW).unwrap();
    let events = events_between(None, &read(&doc).unwrap());
    (doc, events)
}

#[test]
fn an_assign_workflow_assigns_as_the_workflow_and_tells_only_the_chosen_agent() {
    let mut t = team();
    let ana = t.ana.clone();
    let workflow = save(
        &mut t,
        "To Ana",
        Trigger::CustomerMessage,
        vec![Step::Assign { agent: ana.clone() }],
    );
    let (mut doc, events) = incoming(&t, 1, "Where is my parcel?");
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![EventKind::ConversationCreated, EventKind::CustomerMessage]
    );
    let mut runner = Runner::new(&t.workspace, NOW + 10);
    let runs = runner.run(&mut doc, &events).unwrap();
    assert_eq!(runs.len(), 1, "only the customer-message workflow fires");
    let run = &runs[0];
    assert_eq!(run.outcome_name(), "ran");
    assert_eq!(
        run.outcome,
        Outcome::Ran {
            steps: vec![StepResult::Assigned {
                agent: ana.clone(),
                pick: Pick::Chosen
            }]
        }
    );
    assert_eq!(run.describe(&t.workspace), "Assigned to ana");

    let conversation = read(&doc).unwrap();
    let assignment = conversation.effective_assignment().unwrap();
    assert_eq!(assignment.agent.as_ref(), Some(&ana));
    assert_eq!(assignment.kind, AssignmentKind::Workflow);
    assert_eq!(assignment.by, By::Workflow(workflow.id.clone()));
    let last = conversation.activity.last().unwrap();
    assert_eq!(last.by, By::Workflow(workflow.id.clone()));
    assert_eq!(
        last.event,
        ActivityEvent::Assigned {
            agent: ana.clone(),
            previous: None,
            batch: Some(run.batch.clone()),
        }
    );
    let event = Event::AssignmentChanged {
        previous: None,
        by: By::Workflow(workflow.id),
    };
    let told = recipients(&event, &conversation, &t.workspace);
    assert_eq!(told.len(), 1);
    assert_eq!(
        (&told[0].agent, told[0].reason),
        (&ana, Reason::AssignedToYou)
    );
    // The customer's message, too, now goes to the assignee alone.
    let told = recipients(&Event::CustomerMessage, &conversation, &t.workspace);
    assert_eq!(
        told.iter().map(|r| &r.agent).collect::<Vec<_>>(),
        vec![&ana]
    );
}

#[test]
fn a_retried_event_runs_each_workflow_once() {
    let mut t = team();
    save(
        &mut t,
        "Note",
        Trigger::ConversationCreated,
        vec![Step::Note {
            body: "New customer".to_owned(),
        }],
    );
    let (mut doc, events) = incoming(&t, 2, "Hello");
    let mut runner = Runner::new(&t.workspace, NOW + 10);
    // The same event twice in one go, then again later: one run.
    let twice = [events.clone(), events.clone()].concat();
    assert_eq!(runner.run(&mut doc, &twice).unwrap().len(), 1);
    let heads = doc.get_heads();
    assert!(runner.run(&mut doc, &events).unwrap().is_empty());
    assert_eq!(doc.get_heads(), heads, "nothing written the second time");

    // Another server that knows the run's key (from the store) does nothing either.
    let mut elsewhere = Runner::new(&t.workspace, NOW + 20);
    elsewhere.done = runner.done.clone();
    assert!(elsewhere.run(&mut doc, &events).unwrap().is_empty());
    let notes: Vec<_> = read(&doc)
        .unwrap()
        .messages
        .into_iter()
        .filter(|m| m.kind == MessageKind::Note)
        .collect();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].author, Author::System);
}

#[test]
fn a_manual_reassign_beats_a_concurrent_workflow_assignment() {
    let mut t = team();
    let (ana, ben, cy) = (t.ana.clone(), t.ben.clone(), t.cy.clone());
    save(
        &mut t,
        "Unassigned for 5 min",
        Trigger::UnassignedFor { minutes: 5 },
        vec![Step::Assign { agent: ana.clone() }],
    );
    let (mut server, _) = incoming(&t, 3, "Anyone?");
    // Cy, offline, assigns it to Ben; the server's workflow, later, to Ana.
    let mut cys = replica(&mut server);
    let by_cy = By::Agent(cy.clone());
    assign(
        &mut cys,
        &t.workspace,
        &by_cy,
        Some(&ben),
        None,
        NOW + 60_000,
    )
    .unwrap();
    let event = TriggerEvent::unassigned(&read(&server).unwrap()).unwrap();
    let mut runner = Runner::new(&t.workspace, NOW + 10 * 60_000);
    let runs = runner.run(&mut server, &[event]).unwrap();
    assert_eq!(runs[0].outcome_name(), "ran");
    assert_eq!(read(&server).unwrap().assignee(), Some(&ana));

    server.merge(&mut cys).unwrap();
    let merged = read(&server).unwrap();
    assert_eq!(merged.assignments.len(), 2, "both writes compete");
    assert_eq!(merged.assignee(), Some(&ben), "the person's decision wins");
    let corrections = correct(&mut server, &t.workspace, NOW + 11 * 60_000).unwrap();
    match &corrections[..] {
        [Correction::Settled(conflict)] => {
            assert_eq!(conflict.winner.agent, Some(ben.clone()));
            assert_eq!(conflict.losers, vec![ana]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(read(&server).unwrap().assignee(), Some(&ben));
}

#[test]
fn unmet_conditions_skip_the_workflow_and_say_why() {
    let mut t = team();
    let ana = t.ana.clone();
    let mut workflow = Workflow::new("Refunds", Trigger::CustomerMessage, &t.workspace);
    workflow.conditions = vec![
        Condition::TextContains {
            text: "refund".to_owned(),
        },
        Condition::EmailDomain {
            domains: vec!["example.com".to_owned()],
        },
    ];
    workflow.steps = vec![Step::Assign { agent: ana.clone() }];
    workspace::put_workflow(&mut t.doc, &workflow, NOW - 1_000).unwrap();
    t.workspace = workspace::read(&t.doc).unwrap();

    let (mut doc, events) = incoming(&t, 4, "Where is my parcel?");
    let heads = doc.get_heads();
    let runs = Runner::new(&t.workspace, NOW)
        .run(&mut doc, &events)
        .unwrap();
    assert_eq!(runs[0].outcome_name(), "skipped");
    assert_eq!(
        runs[0].describe(&t.workspace),
        "Skipped: the condition “message text contains “refund”” did not hold"
    );
    assert_eq!(doc.get_heads(), heads);

    let (mut doc, events) = incoming(&t, 5, "I want a REFUND");
    let runs = Runner::new(&t.workspace, NOW)
        .run(&mut doc, &events)
        .unwrap();
    assert_eq!(runs[0].outcome_name(), "ran", "dana@example.com matches");
    assert_eq!(read(&doc).unwrap().assignee(), Some(&ana));
}

#[test]
fn round_robin_among_subscribers_takes_turns_and_reports_when_nobody_is_there() {
    let mut t = team();
    let (ana, ben) = (t.ana.clone(), t.ben.clone());
    let workflow = save(
        &mut t,
        "Take turns",
        Trigger::ConversationCreated,
        vec![Step::RoundRobin { agents: vec![] }],
    );
    let mut runner = Runner::new(&t.workspace, NOW);
    let mut picks = Vec::new();
    for n in 10..14 {
        let (mut doc, events) = incoming(&t, n, "Hi");
        runner.run(&mut doc, &events).unwrap();
        picks.push(read(&doc).unwrap().assignee().cloned().unwrap());
    }
    assert_eq!(
        picks,
        vec![ana.clone(), ben.clone(), ana.clone(), ben.clone()]
    );
    assert_eq!(runner.cursors.get(&workflow.id), Some(&ben));
    assert_eq!(runner.open.get(&ana), Some(&2));

    // Both subscribers away: nobody is assigned, and the run log says why.
    for agent in [&ana, &ben] {
        workspace::set_away(&mut t.doc, agent, true, NOW).unwrap();
    }
    let away: Workspace = workspace::read(&t.doc).unwrap();
    let (mut doc, events) = incoming(&t, 20, "Hi");
    let runs = Runner::new(&away, NOW).run(&mut doc, &events).unwrap();
    assert_eq!(runs[0].outcome_name(), "no_change");
    assert_eq!(
        runs[0].describe(&away),
        "Assigned nobody: every agent is away or at capacity (2 away, 0 at capacity)"
    );
    assert_eq!(read(&doc).unwrap().assignee(), None);
}

#[test]
fn still_unassigned_fires_after_the_wait_and_never_for_a_conversation_taken_since() {
    let mut t = team();
    let (ana, ben) = (t.ana.clone(), t.ben.clone());
    save(
        &mut t,
        "Sweep",
        Trigger::UnassignedFor { minutes: 30 },
        vec![Step::LeastBusy {
            agents: vec![ana.clone(), ben],
        }],
    );
    let (mut doc, _) = incoming(&t, 30, "Hello?");
    let event = TriggerEvent::unassigned(&read(&doc).unwrap()).unwrap();
    let early = Runner::new(&t.workspace, NOW + 29 * 60_000)
        .run(&mut doc, std::slice::from_ref(&event))
        .unwrap();
    assert!(early.is_empty(), "29 minutes is not 30");

    // Ben replies (claiming it) before the sweep sees it: the event is over.
    let mut taken = doc.fork();
    reply(
        &mut taken,
        &t.workspace,
        &t.ben,
        "Here",
        ReplyMode::Claim,
        NOW + 60_000,
    )
    .unwrap();
    let late = Runner::new(&t.workspace, NOW + 31 * 60_000)
        .run(&mut taken, std::slice::from_ref(&event))
        .unwrap();
    assert!(late.is_empty());

    let mut runner = Runner::new(&t.workspace, NOW + 31 * 60_000);
    runner.open.insert(t.ben.clone(), 5);
    let runs = runner.run(&mut doc, &[event]).unwrap();
    assert_eq!(
        runs[0].outcome,
        Outcome::Ran {
            steps: vec![StepResult::Assigned {
                agent: ana.clone(),
                pick: Pick::LeastBusy
            }]
        }
    );
}

#[test]
fn workflows_never_take_a_conversation_from_its_assignee() {
    let mut t = team();
    let ana: AgentId = t.ana.clone();
    save(
        &mut t,
        "To Ana",
        Trigger::CustomerMessage,
        vec![Step::Assign { agent: ana }],
    );
    let mut doc = new_conversation(40);
    customer_message(&mut doc, &t.workspace, "Hi", NOW).unwrap();
    reply(
        &mut doc,
        &t.workspace,
        &t.ben,
        "Hello",
        ReplyMode::Claim,
        NOW + 1,
    )
    .unwrap();
    let before = read(&doc).unwrap();
    customer_message(&mut doc, &t.workspace, "Thanks Ben", NOW + 2).unwrap();
    let events = events_between(Some(&before), &read(&doc).unwrap());
    let runs = Runner::new(&t.workspace, NOW + 3)
        .run(&mut doc, &events)
        .unwrap();
    assert_eq!(runs[0].outcome_name(), "no_change");
    assert_eq!(read(&doc).unwrap().assignee(), Some(&t.ben));
}

#[test]
fn a_customer_writing_to_a_resolved_conversation_reopens_it_as_an_event() {
    let mut t = team();
    save(
        &mut t,
        "Reopened",
        Trigger::ConversationReopened,
        vec![Step::Unassign],
    );
    let mut doc = new_conversation(50);
    customer_message(&mut doc, &t.workspace, "Hi", NOW).unwrap();
    reply(
        &mut doc,
        &t.workspace,
        &t.ben,
        "Done",
        ReplyMode::Claim,
        NOW + 1,
    )
    .unwrap();
    resolve(&mut doc, &By::Agent(t.ben.clone()), NOW + 2).unwrap();
    let before = read(&doc).unwrap();
    customer_message(&mut doc, &t.workspace, "It broke again", NOW + 3).unwrap();
    let events = events_between(Some(&before), &read(&doc).unwrap());
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![EventKind::CustomerMessage, EventKind::ConversationReopened]
    );
    let runs = Runner::new(&t.workspace, NOW + 4)
        .run(&mut doc, &events)
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(read(&doc).unwrap().assignee(), None);
}
