//! The rules give the same answers natively and in wasm32 (run under node by
//! `wasm-bindgen-test-runner`): the same scenarios, the same expected results.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod common;

use automerge::AutoCommit;
use baton_shared::conversation::read;
use baton_shared::model::By;
use baton_shared::notify::{Event, recipients};
use baton_shared::operations::{ReplyMode, assign, correct, reply};
use baton_shared::protocol::Message;
use baton_shared::validate::{DocumentKind, Principal};
use common::{NOW, change_from, new_conversation, replica, team, validate_as};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn merged(mut a: AutoCommit, mut b: AutoCommit) -> AutoCommit {
    a.merge(&mut b).unwrap();
    a
}

#[test]
fn the_assignment_rules_agree_on_every_platform() {
    let t = team();
    let mut origin = new_conversation(1);
    let (mut a, mut b, mut c) = (
        replica(&mut origin),
        replica(&mut origin),
        replica(&mut origin),
    );
    reply(
        &mut a,
        &t.workspace,
        &t.ana,
        "a",
        ReplyMode::Claim,
        NOW + 200,
    )
    .unwrap();
    reply(
        &mut b,
        &t.workspace,
        &t.ben,
        "b",
        ReplyMode::Claim,
        NOW + 100,
    )
    .unwrap();
    let claims = merged(a.fork(), b.fork());
    assert_eq!(read(&claims).unwrap().assignee(), Some(&t.ben));

    let by = By::Workflow("wf_x".parse().unwrap());
    assign(&mut c, &t.workspace, &by, Some(&t.cy), None, NOW + 50).unwrap();
    let mut all = merged(claims, c);
    assert_eq!(read(&all).unwrap().assignee(), Some(&t.cy));

    let corrections = correct(&mut all, &t.workspace, NOW + 300).unwrap();
    assert_eq!(corrections.len(), 1);
    let conversation = read(&all).unwrap();
    assert_eq!(conversation.assignments.len(), 1);
    let told = recipients(&Event::CustomerMessage, &conversation, &t.workspace);
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].agent, t.cy);
}

#[test]
fn validation_agrees_on_every_platform() {
    let t = team();
    let mut server = new_conversation(2);
    let forged = change_from(&mut server, |d| {
        reply(d, &t.workspace, &t.ben, "as Ben", ReplyMode::Claim, NOW).unwrap();
    });
    let ana = Principal::Agent(t.ana.clone());
    let kind = DocumentKind::Conversation;
    let err = validate_as(&mut server, &forged, &ana, &t.workspace, kind).unwrap_err();
    assert_eq!(err.code(), "forged_author");
    let ben = Principal::Agent(t.ben.clone());
    assert!(validate_as(&mut server, &forged, &ben, &t.workspace, kind).is_ok());
}

#[test]
fn the_protocol_agrees_on_every_platform() {
    let message = Message::BatonCatchUp {
        sender_id: "a".to_owned(),
        target_id: "b".to_owned(),
        since: 7,
    };
    let bytes = message.encode();
    assert_eq!(
        hex::encode(&bytes),
        "a464747970656e6261746f6e2f63617463682d7570\
         6873656e6465724964616168746172676574496461626573696e636507"
    );
    assert_eq!(Message::decode(&bytes), Ok(message));
}

#[test]
fn workflow_conditions_and_choices_agree_on_every_platform() {
    use baton_shared::workflow::{
        BusinessHours, Condition, Facts, condition_holds, least_busy, pool, round_robin,
    };
    let t = team();
    // NOW is a Tuesday, 22:13 UTC: 16:13 in Chicago (UTC-6).
    let chicago = BusinessHours {
        utc_offset_minutes: -360,
        ..BusinessHours::default()
    };
    assert!(chicago.is_open(NOW));
    assert!(!BusinessHours::default().is_open(NOW));
    let facts = Facts {
        channel: &t.email,
        customer_email: "dana@Eu.Example.com",
        subject: "Order",
        text: "Meine Überweisung",
        at: NOW,
    };
    let hours = BusinessHours::default();
    let text = Condition::TextContains {
        text: "ÜBERWEISUNG".to_owned(),
    };
    let domain = Condition::EmailDomain {
        domains: vec!["example.com".to_owned()],
    };
    assert!(condition_holds(&text, &facts, &hours));
    assert!(condition_holds(&domain, &facts, &hours));
    assert!(condition_holds(
        &Condition::OutsideBusinessHours,
        &facts,
        &hours
    ));

    let subscribers = pool(&[], &t.email, &t.workspace);
    assert_eq!(subscribers, vec![t.ana.clone(), t.ben.clone()]);
    let open = [(t.ana.clone(), 3), (t.ben.clone(), 1)]
        .into_iter()
        .collect();
    assert_eq!(
        round_robin(&subscribers, None, &t.workspace, &open),
        Ok(t.ana.clone())
    );
    assert_eq!(
        round_robin(&subscribers, Some(&t.ana), &t.workspace, &open),
        Ok(t.ben.clone())
    );
    assert_eq!(
        least_busy(&subscribers, &t.workspace, &open),
        Ok(t.ben.clone())
    );
}
