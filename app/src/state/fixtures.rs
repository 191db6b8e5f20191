//! Real documents for the state tests, made with `shared`'s operations.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use automerge::AutoCommit;
use baton_shared::conversation::{self, NewConversation};
use baton_shared::ids::{AgentId, ChannelId, ConversationId, DocumentId};
use baton_shared::model::{Agent, Channel, Conversation, Customer, Role};
use baton_shared::operations;
use baton_shared::workspace::Workspace;

/// A workspace with the given agents (all active) and one channel.
pub fn workspace(names: &[&str]) -> (Workspace, Vec<AgentId>) {
    let mut workspace = Workspace::default();
    let mut ids = Vec::new();
    for name in names {
        let id = AgentId::random();
        workspace.agents.insert(
            id.clone(),
            Agent {
                id: id.clone(),
                name: (*name).to_owned(),
                email: format!("{}@acme.test", name.to_lowercase()),
                role: Role::Agent,
                active: true,
                away: false,
                capacity: None,
            },
        );
        ids.push(id);
    }
    let channel = ChannelId::random();
    workspace.channels = BTreeMap::from([(
        channel.clone(),
        Channel {
            id: channel,
            name: "Support".into(),
            kind: "email".into(),
        },
    )]);
    (workspace, ids)
}

/// A new conversation document with one customer message.
pub fn document(subject: &str, body: &str) -> AutoCommit {
    let mut doc = conversation::create(&NewConversation {
        id: ConversationId::random(),
        channel: ChannelId::random(),
        subject: subject.into(),
        customer: Customer {
            id: "cus_1".into(),
            name: "Maya Lopez".into(),
            email: "maya@example.com".into(),
        },
        at: 1_000,
    })
    .unwrap();
    operations::customer_message(&mut doc, &Workspace::default(), body, 1_001).unwrap();
    doc
}

/// A conversation, read, with a fresh document id.
pub fn conversation(subject: &str, body: &str) -> (DocumentId, Conversation) {
    let doc = document(subject, body);
    (DocumentId::random(), conversation::read(&doc).unwrap())
}
