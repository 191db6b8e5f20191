//! Who is told of customer messages, replies, reassigns and unassigns.

use super::*;
use crate::conversation::{NewConversation, create, read};
use crate::model::{Agent, Customer, Role};
use crate::operations::{ReplyMode, assign, reply, unassign};
use crate::workspace;

struct Team {
    workspace: Workspace,
    ana: AgentId,
    ben: AgentId,
    cy: AgentId,
}

fn team() -> Team {
    let mut doc = workspace::create("Acme", 1).unwrap();
    let channel = "chn_email".parse().unwrap();
    let mut ids = Vec::new();
    for name in ["ana", "ben", "cy"] {
        let agent = Agent {
            id: format!("agt_{name}").parse().unwrap(),
            name: name.to_owned(),
            email: format!("{name}@acme.test"),
            role: Role::Agent,
            active: true,
            away: false,
            capacity: None,
        };
        workspace::put_agent(&mut doc, &agent, 2).unwrap();
        ids.push(agent.id);
    }
    // Ana and Ben are signed up for the email channel; Cy is not.
    workspace::set_subscription(&mut doc, &ids[0], &channel, true, 3).unwrap();
    workspace::set_subscription(&mut doc, &ids[1], &channel, true, 3).unwrap();
    Team {
        workspace: workspace::read(&doc).unwrap(),
        ana: ids[0].clone(),
        ben: ids[1].clone(),
        cy: ids[2].clone(),
    }
}

fn new_doc() -> automerge::AutoCommit {
    create(&NewConversation {
        id: "cnv_1".parse().unwrap(),
        channel: "chn_email".parse().unwrap(),
        subject: "Refund".to_owned(),
        customer: Customer {
            id: "cus_1".to_owned(),
            name: "Dana".to_owned(),
            email: "dana@example.com".to_owned(),
        },
        at: 10,
    })
    .unwrap()
}

fn agents(list: Vec<Recipient>) -> Vec<AgentId> {
    list.into_iter().map(|r| r.agent).collect()
}

#[test]
fn unassigned_messages_go_to_the_channel_subscribers() {
    let t = team();
    let conversation = read(&new_doc()).unwrap();
    let told = recipients(&Event::CustomerMessage, &conversation, &t.workspace);
    assert_eq!(agents(told), vec![t.ana, t.ben]);
}

#[test]
fn after_the_first_reply_only_the_assignee_is_told() {
    let t = team();
    let mut doc = new_doc();
    reply(
        &mut doc,
        &t.workspace,
        &t.ben,
        "On it",
        ReplyMode::Claim,
        20,
    )
    .unwrap();
    let conversation = read(&doc).unwrap();
    let told = recipients(&Event::CustomerMessage, &conversation, &t.workspace);
    assert_eq!(
        told,
        vec![Recipient {
            agent: t.ben,
            reason: Reason::Assignee
        }]
    );
}

#[test]
fn reply_and_leave_unassigned_keeps_telling_subscribers() {
    let t = team();
    let mut doc = new_doc();
    let mode = ReplyMode::LeaveUnassigned;
    reply(&mut doc, &t.workspace, &t.ben, "Checking", mode, 20).unwrap();
    let conversation = read(&doc).unwrap();
    let told = recipients(&Event::CustomerMessage, &conversation, &t.workspace);
    assert_eq!(agents(told), vec![t.ana, t.ben]);
}

#[test]
fn an_unsubscribed_assignee_is_still_told() {
    let t = team();
    let mut doc = new_doc();
    let by = By::Agent(t.ana.clone());
    assign(&mut doc, &t.workspace, &by, Some(&t.cy), None, 20).unwrap();
    let conversation = read(&doc).unwrap();
    let told = recipients(&Event::CustomerMessage, &conversation, &t.workspace);
    assert_eq!(agents(told), vec![t.cy]);
}

#[test]
fn a_reassign_tells_the_new_and_previous_assignee_but_not_the_actor() {
    let t = team();
    let mut doc = new_doc();
    reply(&mut doc, &t.workspace, &t.ben, "Hi", ReplyMode::Claim, 20).unwrap();
    let by = By::Agent(t.ana.clone());
    assign(&mut doc, &t.workspace, &by, Some(&t.cy), None, 30).unwrap();
    let conversation = read(&doc).unwrap();
    let event = Event::AssignmentChanged {
        previous: Some(t.ben.clone()),
        by,
    };
    let mut told = recipients(&event, &conversation, &t.workspace);
    told.sort_by_key(|r| r.reason);
    assert_eq!(
        told,
        vec![
            Recipient {
                agent: t.cy.clone(),
                reason: Reason::AssignedToYou
            },
            Recipient {
                agent: t.ben.clone(),
                reason: Reason::MovedAway
            },
        ]
    );
    // Reassigning to yourself tells only the one who lost it.
    let by = By::Agent(t.cy.clone());
    let event = Event::AssignmentChanged {
        previous: Some(t.ben.clone()),
        by,
    };
    assert_eq!(
        agents(recipients(&event, &conversation, &t.workspace)),
        vec![t.ben]
    );
}

#[test]
fn an_unassign_tells_the_previous_assignee_and_the_subscribers() {
    let t = team();
    let mut doc = new_doc();
    let by = By::Agent(t.cy.clone());
    assign(&mut doc, &t.workspace, &by, Some(&t.ana), None, 20).unwrap();
    unassign(&mut doc, &t.workspace, &by, None, 30).unwrap();
    let conversation = read(&doc).unwrap();
    let event = Event::AssignmentChanged {
        previous: Some(t.ana.clone()),
        by,
    };
    let told = recipients(&event, &conversation, &t.workspace);
    assert_eq!(agents(told), vec![t.ana.clone(), t.ben]);
    assert!(
        recipients(
            &Event::AssignmentChanged {
                previous: None,
                by: By::Server
            },
            &conversation,
            &t.workspace
        )
        .is_empty()
    );
}
