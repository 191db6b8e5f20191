//! A small support team and helpers shared by the integration tests.
#![allow(dead_code)]

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, Change, ObjId, ObjType, ROOT, ReadDoc, Value};
use baton_shared::conversation::{self, NewConversation};
use baton_shared::ids::{AgentId, ChannelId, ConversationId};
use baton_shared::model::{Agent, Customer, Millis, Role};
use baton_shared::validate::{
    Context, DocumentKind, OnlineHistory, Principal, Totals, Violation, count_ops, validate_change,
};
use baton_shared::workspace::{self, Workspace};

/// The server's clock in these tests.
pub const NOW: Millis = 1_700_000_000_000;

pub struct Team {
    pub doc: AutoCommit,
    pub workspace: Workspace,
    pub admin: AgentId,
    pub ana: AgentId,
    pub ben: AgentId,
    pub cy: AgentId,
    /// Deactivated.
    pub gone: AgentId,
    pub email: ChannelId,
}

pub fn agent_id(name: &str) -> AgentId {
    format!("agt_{name}").parse().expect("valid agent id")
}

pub fn team() -> Team {
    let mut doc = workspace::create("Acme support", NOW - 10_000).expect("workspace");
    let email: ChannelId = "chn_email".parse().expect("channel id");
    workspace::put_channel(
        &mut doc,
        &baton_shared::model::Channel {
            id: email.clone(),
            name: "Email".to_owned(),
            kind: "email".to_owned(),
        },
        NOW - 9_000,
    )
    .expect("channel");
    for (name, role, active) in [
        ("admin", Role::Admin, true),
        ("ana", Role::Agent, true),
        ("ben", Role::Agent, true),
        ("cy", Role::Agent, true),
        ("gone", Role::Agent, false),
    ] {
        let agent = Agent {
            id: agent_id(name),
            name: name.to_owned(),
            email: format!("{name}@acme.test"),
            role,
            active,
            away: false,
            capacity: None,
        };
        workspace::put_agent(&mut doc, &agent, NOW - 8_000).expect("agent");
    }
    for name in ["ana", "ben"] {
        workspace::set_subscription(&mut doc, &agent_id(name), &email, true, NOW - 7_000)
            .expect("subscription");
    }
    let read = workspace::read(&doc).expect("workspace reads");
    Team {
        doc,
        workspace: read,
        admin: agent_id("admin"),
        ana: agent_id("ana"),
        ben: agent_id("ben"),
        cy: agent_id("cy"),
        gone: agent_id("gone"),
        email,
    }
}

pub fn new_conversation(n: u8) -> AutoCommit {
    conversation::create(&NewConversation {
        id: ConversationId::from_bytes([n; 16]),
        channel: "chn_email".parse().expect("channel id"),
        subject: format!("Order #{n} never arrived"),
        customer: Customer {
            id: format!("cus_{n}"),
            name: "Dana Reyes".to_owned(),
            email: "dana@example.com".to_owned(),
        },
        at: NOW - 5_000,
    })
    .expect("conversation")
}

/// A replica of `doc` with its own actor, as a client holds it.
pub fn replica(doc: &mut AutoCommit) -> AutoCommit {
    doc.fork().with_actor(ActorId::random())
}

/// Makes one change on a replica of `server` with `write` and returns it.
pub fn change_from(server: &mut AutoCommit, write: impl FnOnce(&mut AutoCommit)) -> Change {
    let mut client = replica(server);
    write(&mut client);
    client.commit();
    client
        .get_last_local_change()
        .expect("the client made a change")
}

pub fn validate_as(
    server: &mut AutoCommit,
    change: &Change,
    principal: &Principal,
    workspace: &Workspace,
    kind: DocumentKind,
) -> Result<AutoCommit, Violation> {
    let online = OnlineHistory::default();
    let ctx = Context {
        principal,
        workspace,
        now: NOW,
        online: &online,
        stored: Totals {
            ops: count_ops(server),
            bytes: server.save().len(),
        },
    };
    validate_change(server, change, kind, &ctx)
}

/// The object (list or map) at `key` of the document's root.
pub fn object_at(doc: &AutoCommit, key: &str) -> ObjId {
    match doc.get(ROOT, key).expect("a readable document") {
        Some((Value::Object(_), id)) => id,
        _ => panic!("{key} is not an object"),
    }
}

/// A message written field by field, as a client that skips the
/// operations could write it.
pub struct HandWritten<'a> {
    pub kind: &'a str,
    pub author: &'a AgentId,
    pub body: String,
    pub at: Millis,
    pub leave_unassigned: bool,
}

impl<'a> HandWritten<'a> {
    /// A note by `author` stamped now: every field as an honest one has it.
    pub fn note_by(author: &'a AgentId) -> Self {
        HandWritten {
            kind: "note",
            author,
            body: "by hand".to_owned(),
            at: NOW,
            leave_unassigned: false,
        }
    }

    /// Puts the message at the head of the thread.
    pub fn insert(self, d: &mut AutoCommit) {
        let messages = object_at(d, "messages");
        let put = "a writable message";
        let obj = d.insert_object(&messages, 0, ObjType::Map).expect(put);
        d.put(&obj, "id", "msg_by_hand").expect(put);
        d.put(&obj, "kind", self.kind).expect(put);
        let author = d.put_object(&obj, "author", ObjType::Map).expect(put);
        d.put(&author, "kind", "agent").expect(put);
        d.put(&author, "id", self.author.as_str()).expect(put);
        d.put(&obj, "body", self.body).expect(put);
        d.put(&obj, "at", self.at).expect(put);
        d.put(&obj, "leave_unassigned", self.leave_unassigned)
            .expect(put);
    }
}
