//! Replicas that apply the seed's operations while disconnected and then sync
//! in random orders end up identical, with the same effective assignee, and
//! the named conflicts resolve by DESIGN §3's rules.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use automerge::AutoCommit;
use automerge::sync::{self, SyncDoc};
use baton_shared::assignment::conflict;
use baton_shared::conversation::read;
use baton_shared::ids::AgentId;
use baton_shared::model::{Assignment, AssignmentKind, By, Millis};
use baton_shared::operations::{
    ReplyMode, assign, customer_message, note, reopen, reply, resolve, settle,
};
use common::{NOW, Team, new_conversation, replica, team};
use proptest::prelude::*;

/// Syncs two replicas with the real sync protocol until neither has more to say.
fn sync_pair(a: &mut AutoCommit, b: &mut AutoCommit) {
    let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
    for _ in 0..32 {
        let to_b = a.sync().generate_sync_message(&mut sa);
        if let Some(m) = to_b.clone() {
            b.sync().receive_sync_message(&mut sb, m).unwrap();
        }
        let to_a = b.sync().generate_sync_message(&mut sb);
        if let Some(m) = to_a.clone() {
            a.sync().receive_sync_message(&mut sa, m).unwrap();
        }
        if to_b.is_none() && to_a.is_none() {
            return;
        }
    }
    panic!("sync did not finish");
}

fn pair(replicas: &mut [AutoCommit], i: usize, j: usize) {
    let (low, high) = (i.min(j), i.max(j));
    let (left, right) = replicas.split_at_mut(high);
    sync_pair(&mut left[low], &mut right[0]);
}

#[derive(Debug, Clone)]
enum Op {
    Reply { agent: usize, leave: bool },
    Note { agent: usize },
    Assign { by: usize, to: Option<usize> },
    Workflow { to: usize },
    Resolve { by: usize },
    Reopen { by: usize },
    CustomerMessage,
}

#[derive(Debug, Clone)]
enum Step {
    Apply { replica: usize, op: Op, tick: i64 },
    Sync { a: usize, b: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, any::<bool>()).prop_map(|(agent, leave)| Op::Reply { agent, leave }),
        1 => (0..3usize).prop_map(|agent| Op::Note { agent }),
        4 => (0..3usize, proptest::option::of(0..3usize)).prop_map(|(by, to)| Op::Assign { by, to }),
        2 => (0..3usize).prop_map(|to| Op::Workflow { to }),
        1 => (0..3usize).prop_map(|by| Op::Resolve { by }),
        1 => (0..3usize).prop_map(|by| Op::Reopen { by }),
        1 => Just(Op::CustomerMessage),
    ]
}

fn steps(replicas: usize) -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        5 => (0..replicas, op(), 0..5_000i64)
            .prop_map(|(replica, op, tick)| Step::Apply { replica, op, tick }),
        1 => (0..replicas, 0..replicas).prop_map(|(a, b)| Step::Sync { a, b }),
    ];
    proptest::collection::vec(step, 1..24)
}

fn agents(t: &Team) -> [AgentId; 3] {
    [t.ana.clone(), t.ben.clone(), t.cy.clone()]
}

/// Applies `op`; operations the replica's state does not allow are skipped,
/// as the app would refuse them. Returns the assignment it wrote, if any.
fn apply(t: &Team, doc: &mut AutoCommit, op: &Op, now: i64) -> Option<Assignment> {
    let ws = &t.workspace;
    let who = agents(t);
    let before = doc.get_heads();
    let _ = match op {
        Op::Reply { agent, leave } => {
            let mode = if *leave {
                ReplyMode::LeaveUnassigned
            } else {
                ReplyMode::Claim
            };
            reply(doc, ws, &who[*agent], "reply", mode, now).map(|_| ())
        }
        Op::Note { agent } => note(doc, ws, &who[*agent], "note", now).map(|_| ()),
        Op::Assign { by, to } => {
            let to = to.map(|i| &who[i]);
            assign(doc, ws, &By::Agent(who[*by].clone()), to, None, now).map(|_| ())
        }
        Op::Workflow { to } => {
            let by = By::Workflow("wf_triage".parse().unwrap());
            assign(
                doc,
                ws,
                &by,
                Some(&who[*to]),
                Some(&"bat_wf".parse().unwrap()),
                now,
            )
            .map(|_| ())
        }
        Op::Resolve { by } => resolve(doc, &By::Agent(who[*by].clone()), now),
        Op::Reopen { by } => reopen(doc, &By::Agent(who[*by].clone()), now),
        Op::CustomerMessage => customer_message(doc, ws, "more", now).map(|_| ()),
    };
    if doc.get_heads() == before {
        return None;
    }
    // Right after a local write the writer sees only its own new value.
    let values = read(doc).unwrap().assignments;
    (values.len() == 1).then(|| values[0].clone())
}

fn run(replica_count: usize, plan: &[Step], order: &[(usize, usize)]) {
    let t = team();
    let mut origin = new_conversation(1);
    let mut replicas: Vec<AutoCommit> = (0..replica_count).map(|_| replica(&mut origin)).collect();
    let mut written: Vec<Assignment> = read(&origin).unwrap().assignments;
    for step in plan {
        match step {
            Step::Apply { replica, op, tick } => {
                if let Some(value) = apply(&t, &mut replicas[*replica], op, NOW + tick) {
                    written.push(value);
                }
            }
            Step::Sync { a, b } if a != b => pair(&mut replicas, *a, *b),
            Step::Sync { .. } => {}
        }
    }
    // Reconnect: sync in the given random order, then a full round so every
    // replica has heard from every other.
    for (a, b) in order {
        if a != b {
            pair(&mut replicas, *a, *b);
        }
    }
    for i in 1..replica_count {
        pair(&mut replicas, 0, i);
    }
    for i in 1..replica_count {
        pair(&mut replicas, 0, i);
    }

    let heads = replicas[0].get_heads();
    let state = read(&replicas[0]).unwrap();
    for doc in &mut replicas[1..] {
        assert_eq!(doc.get_heads(), heads, "every replica has the same heads");
        let other = read(doc).unwrap();
        assert_eq!(other, state, "every replica reads the same conversation");
        assert_eq!(other.assignee(), state.assignee());
    }
    // Each competing value, and so the effective one, is exactly one write.
    for value in &state.assignments {
        assert!(
            written.contains(value),
            "{value:?} mixes fields of several writes"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn replicas_converge_after_offline_work(
        (count, plan, order) in (3usize..=5).prop_flat_map(|n| (
            Just(n),
            steps(n),
            proptest::collection::vec((0..n, 0..n), 0..12),
        ))
    ) {
        run(count, &plan, &order);
    }
}

// The named cases.

fn offline_pair(t: &Team) -> (AutoCommit, AutoCommit) {
    let _ = t;
    let mut origin = new_conversation(1);
    (replica(&mut origin), replica(&mut origin))
}

/// `who` replies at `at`, and so claims the conversation.
fn claims(t: &Team, doc: &mut AutoCommit, who: &AgentId, body: &str, at: Millis) {
    reply(doc, &t.workspace, who, body, ReplyMode::Claim, at).unwrap();
}

/// Agent `by` (re)assigns the conversation to `to` at `at`.
fn reassigns(t: &Team, doc: &mut AutoCommit, by: &AgentId, to: &AgentId, at: Millis) {
    let by = By::Agent(by.clone());
    assign(doc, &t.workspace, &by, Some(to), None, at).unwrap();
}

/// The assignee once the two replicas have synced.
fn assignee_once_merged(a: AutoCommit, b: AutoCommit) -> Option<AgentId> {
    read(&merged(a, b)).unwrap().assignee().cloned()
}

fn merged(mut a: AutoCommit, mut b: AutoCommit) -> AutoCommit {
    sync_pair(&mut a, &mut b);
    assert_eq!(read(&a).unwrap(), read(&b).unwrap());
    a
}

#[test]
fn two_offline_first_replies_the_earliest_wins() {
    let t = team();
    let (mut a, mut b) = offline_pair(&t);
    claims(&t, &mut a, &t.ana, "late", NOW + 500);
    claims(&t, &mut b, &t.ben, "early", NOW + 100);
    assert_eq!(assignee_once_merged(a, b), Some(t.ben.clone()));
}

#[test]
fn a_claim_against_a_manual_assignment_manual_wins() {
    let t = team();
    let (mut a, mut b) = offline_pair(&t);
    claims(&t, &mut a, &t.ana, "mine", NOW + 900);
    reassigns(&t, &mut b, &t.admin, &t.cy, NOW + 100);
    assert_eq!(assignee_once_merged(a, b), Some(t.cy.clone()));
}

#[test]
fn two_manual_reassigns_the_latest_wins() {
    let t = team();
    let (mut a, mut b) = offline_pair(&t);
    reassigns(&t, &mut a, &t.ana, &t.cy, NOW + 300);
    reassigns(&t, &mut b, &t.ben, &t.ana, NOW + 200);
    assert_eq!(assignee_once_merged(a, b), Some(t.cy.clone()));
}

#[test]
fn manual_beats_a_concurrent_workflow() {
    let t = team();
    let (mut a, mut b) = offline_pair(&t);
    let workflow = By::Workflow("wf_vip".parse().unwrap());
    assign(
        &mut a,
        &t.workspace,
        &workflow,
        Some(&t.ben),
        Some(&"bat_1".parse().unwrap()),
        NOW + 900,
    )
    .unwrap();
    reassigns(&t, &mut b, &t.ana, &t.ana, NOW + 100);
    let doc = merged(a, b);
    let conversation = read(&doc).unwrap();
    assert_eq!(conversation.assignee(), Some(&t.ana));
    assert_eq!(
        conversation.effective_assignment().unwrap().kind,
        AssignmentKind::Manual
    );
}

#[test]
fn settling_ends_the_conflict_everywhere() {
    let t = team();
    let (mut a, mut b) = offline_pair(&t);
    claims(&t, &mut a, &t.ana, "one", NOW + 100);
    claims(&t, &mut b, &t.ben, "two", NOW + 200);
    let mut server = merged(a.fork(), b.fork());
    let found = conflict(&read(&server).unwrap().assignments).unwrap();
    assert_eq!(found.losers, vec![t.ben.clone()]);
    settle(&mut server, NOW + 300).unwrap().unwrap();
    sync_pair(&mut server, &mut a);
    sync_pair(&mut server, &mut b);
    for doc in [&a, &b, &server] {
        let conversation = read(doc).unwrap();
        assert_eq!(
            conversation.assignments.len(),
            1,
            "no competing values remain"
        );
        assert_eq!(conversation.assignee(), Some(&t.ana));
        assert_eq!(
            conversation.effective_assignment().unwrap().kind,
            AssignmentKind::Settled
        );
    }
    assert!(settle(&mut server, NOW + 400).unwrap().is_none());
}
