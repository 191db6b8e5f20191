//! The conversation document: its layout, creation, and reading it into a
//! [`Conversation`]. Writes that change a conversation live in `operations`.
//!
//! Layout (root map): `id`, `channel`, `subject`, `customer {id, name, email}`,
//! `created_at`, `status`, `assignee {agent, kind, by, at}`, `messages` (list),
//! `activity` (list). `assignee` is only ever replaced whole and read with
//! `get_all`, so concurrent writes stay visible as competing values.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, AutomergeError, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

use crate::doc_io::{self as io, ReadError};
use crate::ids::{AgentId, ChannelId, ConversationId, MessageId};
use crate::model::{
    Activity, ActivityEvent, Assignment, AssignmentKind, Author, By, Conversation, Customer,
    Message, MessageKind, Millis, Status,
};

pub(crate) mod key {
    pub const ID: &str = "id";
    pub const CHANNEL: &str = "channel";
    pub const SUBJECT: &str = "subject";
    pub const CUSTOMER: &str = "customer";
    pub const CREATED_AT: &str = "created_at";
    pub const STATUS: &str = "status";
    pub const ASSIGNEE: &str = "assignee";
    pub const MESSAGES: &str = "messages";
    pub const ACTIVITY: &str = "activity";
    pub const ROOT_KEYS: &[&str] = &[
        ID, CHANNEL, SUBJECT, CUSTOMER, CREATED_AT, STATUS, ASSIGNEE, MESSAGES, ACTIVITY,
    ];
    pub const CUSTOMER_KEYS: &[&str] = &["id", "name", "email"];
    pub const ASSIGNMENT_KEYS: &[&str] = &["agent", "kind", "by", "at"];
    pub const MESSAGE_KEYS: &[&str] = &["id", "kind", "author", "body", "at", "leave_unassigned"];
    pub const AUTHOR_KEYS: &[&str] = &["kind", "id"];
    pub const ACTIVITY_KEYS: &[&str] = &[
        "at", "by", "event", "agent", "previous", "batch", "winner", "losers",
    ];
}

/// What a new conversation starts with.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub id: ConversationId,
    pub channel: ChannelId,
    pub subject: String,
    pub customer: Customer,
    pub at: Millis,
}

/// Creates a conversation document in one change: unassigned, open, with a
/// `created` activity entry. Only the server creates documents.
pub fn create(new: &NewConversation) -> Result<AutoCommit, AutomergeError> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, key::ID, new.id.as_str())?;
    doc.put(ROOT, key::CHANNEL, new.channel.as_str())?;
    doc.put(ROOT, key::SUBJECT, new.subject.as_str())?;
    let customer = doc.put_object(ROOT, key::CUSTOMER, ObjType::Map)?;
    doc.put(&customer, "id", new.customer.id.as_str())?;
    doc.put(&customer, "name", new.customer.name.as_str())?;
    doc.put(&customer, "email", new.customer.email.as_str())?;
    doc.put(ROOT, key::CREATED_AT, new.at)?;
    doc.put(ROOT, key::STATUS, Status::Open.as_str())?;
    let unassigned = Assignment {
        agent: None,
        kind: AssignmentKind::Settled,
        by: By::Server,
        at: new.at,
    };
    write_assignment(&mut doc, &unassigned)?;
    doc.put_object(ROOT, key::MESSAGES, ObjType::List)?;
    doc.put_object(ROOT, key::ACTIVITY, ObjType::List)?;
    push_activity(
        &mut doc,
        &Activity {
            at: new.at,
            by: By::Server,
            event: ActivityEvent::Created,
        },
    )?;
    doc.commit_with(crate::operations::commit_options("create", new.at));
    Ok(doc)
}

/// Reads the whole conversation, every competing assignment included.
pub fn read<D: ReadDoc>(doc: &D) -> Result<Conversation, ReadError> {
    io::only_keys(doc, &ROOT, key::ROOT_KEYS)?;
    let customer_obj = io::object(doc, &ROOT, key::CUSTOMER, ObjType::Map)?;
    io::only_keys(doc, &customer_obj, key::CUSTOMER_KEYS)?;
    let customer = Customer {
        id: io::string(doc, &customer_obj, "id")?,
        name: io::string(doc, &customer_obj, "name")?,
        email: io::string(doc, &customer_obj, "email")?,
    };
    let messages_obj = io::object(doc, &ROOT, key::MESSAGES, ObjType::List)?;
    let messages = io::list_of_maps(doc, &messages_obj, key::MESSAGES)?
        .iter()
        .map(|obj| read_message(doc, obj))
        .collect::<Result<Vec<_>, _>>()?;
    let activity_obj = io::object(doc, &ROOT, key::ACTIVITY, ObjType::List)?;
    let activity = io::list_of_maps(doc, &activity_obj, key::ACTIVITY)?
        .iter()
        .map(|obj| read_activity(doc, obj))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Conversation {
        id: io::parsed(doc, &ROOT, key::ID)?,
        channel: io::parsed(doc, &ROOT, key::CHANNEL)?,
        subject: io::string(doc, &ROOT, key::SUBJECT)?,
        customer,
        created_at: io::int(doc, &ROOT, key::CREATED_AT)?,
        status: io::parsed(doc, &ROOT, key::STATUS)?,
        assignments: read_assignments(doc)?.into_iter().map(|(a, _)| a).collect(),
        messages,
        activity,
    })
}

/// Every competing value of `assignee`, with the id of the write that made it.
pub fn read_assignments<D: ReadDoc>(doc: &D) -> Result<Vec<(Assignment, ObjId)>, ReadError> {
    let values = doc.get_all(ROOT, key::ASSIGNEE)?;
    if values.is_empty() {
        return Err(ReadError::Missing(key::ASSIGNEE.to_owned()));
    }
    values
        .into_iter()
        .map(|(value, obj)| match value {
            Value::Object(ObjType::Map) => read_assignment(doc, &obj).map(|a| (a, obj)),
            _ => Err(ReadError::WrongType {
                field: key::ASSIGNEE.to_owned(),
                expected: "a map",
            }),
        })
        .collect()
}

fn read_assignment<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Assignment, ReadError> {
    io::only_keys(doc, obj, key::ASSIGNMENT_KEYS)?;
    Ok(Assignment {
        agent: io::opt_parsed(doc, obj, "agent")?,
        kind: io::parsed(doc, obj, "kind")?,
        by: io::parsed(doc, obj, "by")?,
        at: io::int(doc, obj, "at")?,
    })
}

fn read_message<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Message, ReadError> {
    io::only_keys(doc, obj, key::MESSAGE_KEYS)?;
    let author_obj = io::object(doc, obj, "author", ObjType::Map)?;
    io::only_keys(doc, &author_obj, key::AUTHOR_KEYS)?;
    let author = match io::string(doc, &author_obj, "kind")?.as_str() {
        "customer" => Author::Customer,
        "system" => Author::System,
        "agent" => Author::Agent(io::parsed(doc, &author_obj, "id")?),
        other => {
            return Err(ReadError::Invalid {
                field: "author.kind".to_owned(),
                reason: format!("unknown author kind {other:?}"),
            });
        }
    };
    let kind = match io::string(doc, obj, "kind")?.as_str() {
        "message" => MessageKind::Message,
        "note" => MessageKind::Note,
        other => {
            return Err(ReadError::Invalid {
                field: "kind".to_owned(),
                reason: format!("unknown message kind {other:?}"),
            });
        }
    };
    Ok(Message {
        id: io::parsed::<MessageId, _>(doc, obj, "id")?,
        kind,
        author,
        body: io::string(doc, obj, "body")?,
        at: io::int(doc, obj, "at")?,
        leave_unassigned: io::boolean(doc, obj, "leave_unassigned")?,
    })
}

fn read_activity<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Activity, ReadError> {
    io::only_keys(doc, obj, key::ACTIVITY_KEYS)?;
    let agent = || io::parsed::<AgentId, _>(doc, obj, "agent");
    let previous = || io::opt_parsed::<AgentId, _>(doc, obj, "previous");
    let batch = || io::opt_str(doc, obj, "batch");
    let event = match io::string(doc, obj, "event")?.as_str() {
        "created" => ActivityEvent::Created,
        "assigned" => ActivityEvent::Assigned {
            agent: agent()?,
            previous: previous()?,
            batch: batch()?,
        },
        "claimed" => ActivityEvent::Claimed { agent: agent()? },
        "unassigned" => ActivityEvent::Unassigned {
            previous: previous()?,
            batch: batch()?,
        },
        "settled" => {
            let losers_obj = io::object(doc, obj, "losers", ObjType::List)?;
            let mut losers = Vec::new();
            for index in 0..doc.length(&losers_obj) {
                match doc.get(&losers_obj, index)? {
                    Some((Value::Scalar(s), _)) => match s.as_ref() {
                        ScalarValue::Str(text) => losers.push(io::parse("losers", text)?),
                        _ => return Err(bad_losers()),
                    },
                    _ => return Err(bad_losers()),
                }
            }
            ActivityEvent::Settled {
                winner: io::opt_parsed(doc, obj, "winner")?,
                losers,
            }
        }
        "resolved" => ActivityEvent::Resolved,
        "reopened" => ActivityEvent::Reopened,
        other => {
            return Err(ReadError::Invalid {
                field: "event".to_owned(),
                reason: format!("unknown activity event {other:?}"),
            });
        }
    };
    Ok(Activity {
        at: io::int(doc, obj, "at")?,
        by: io::parsed(doc, obj, "by")?,
        event,
    })
}

fn bad_losers() -> ReadError {
    ReadError::WrongType {
        field: "losers".to_owned(),
        expected: "a list of agent ids",
    }
}

/// Replaces `assignee` with a new map holding all four fields of one write.
pub(crate) fn write_assignment(
    doc: &mut AutoCommit,
    assignment: &Assignment,
) -> Result<(), AutomergeError> {
    let obj = doc.put_object(ROOT, key::ASSIGNEE, ObjType::Map)?;
    io::put_opt_str(
        doc,
        &obj,
        "agent",
        assignment.agent.as_ref().map(AgentId::as_str),
    )?;
    doc.put(&obj, "kind", assignment.kind.as_str())?;
    doc.put(&obj, "by", assignment.by.to_string())?;
    doc.put(&obj, "at", assignment.at)?;
    Ok(())
}

/// Appends a message to the thread.
pub(crate) fn push_message(doc: &mut AutoCommit, message: &Message) -> Result<(), AutomergeError> {
    let list = list_obj(doc, key::MESSAGES)?;
    let obj = doc.insert_object(&list, doc.length(&list), ObjType::Map)?;
    doc.put(&obj, "id", message.id.as_str())?;
    doc.put(&obj, "kind", message.kind.as_str())?;
    let author = doc.put_object(&obj, "author", ObjType::Map)?;
    let (kind, id) = match &message.author {
        Author::Customer => ("customer", None),
        Author::System => ("system", None),
        Author::Agent(agent) => ("agent", Some(agent.as_str())),
    };
    doc.put(&author, "kind", kind)?;
    io::put_opt_str(doc, &author, "id", id)?;
    doc.put(&obj, "body", message.body.as_str())?;
    doc.put(&obj, "at", message.at)?;
    doc.put(&obj, "leave_unassigned", message.leave_unassigned)?;
    Ok(())
}

/// Appends an entry to the activity trail.
pub(crate) fn push_activity(
    doc: &mut AutoCommit,
    activity: &Activity,
) -> Result<(), AutomergeError> {
    let list = list_obj(doc, key::ACTIVITY)?;
    let obj = doc.insert_object(&list, doc.length(&list), ObjType::Map)?;
    doc.put(&obj, "at", activity.at)?;
    doc.put(&obj, "by", activity.by.to_string())?;
    doc.put(&obj, "event", activity.event.name())?;
    match &activity.event {
        ActivityEvent::Created | ActivityEvent::Resolved | ActivityEvent::Reopened => {}
        ActivityEvent::Assigned {
            agent,
            previous,
            batch,
        } => {
            doc.put(&obj, "agent", agent.as_str())?;
            io::put_opt_str(
                doc,
                &obj,
                "previous",
                previous.as_ref().map(AgentId::as_str),
            )?;
            io::put_opt_str(doc, &obj, "batch", batch.as_deref())?;
        }
        ActivityEvent::Claimed { agent } => doc.put(&obj, "agent", agent.as_str())?,
        ActivityEvent::Unassigned { previous, batch } => {
            io::put_opt_str(
                doc,
                &obj,
                "previous",
                previous.as_ref().map(AgentId::as_str),
            )?;
            io::put_opt_str(doc, &obj, "batch", batch.as_deref())?;
        }
        ActivityEvent::Settled { winner, losers } => {
            io::put_opt_str(doc, &obj, "winner", winner.as_ref().map(AgentId::as_str))?;
            let list = doc.put_object(&obj, "losers", ObjType::List)?;
            for (index, loser) in losers.iter().enumerate() {
                doc.insert(&list, index, loser.as_str())?;
            }
        }
    }
    Ok(())
}

/// Sets the status (open or resolved).
pub(crate) fn write_status(doc: &mut AutoCommit, status: Status) -> Result<(), AutomergeError> {
    doc.put(ROOT, key::STATUS, status.as_str())
}

fn list_obj(doc: &AutoCommit, field: &str) -> Result<ObjId, AutomergeError> {
    match doc.get(ROOT, field)? {
        Some((Value::Object(ObjType::List), id)) => Ok(id),
        _ => Err(AutomergeError::InvalidObjId(field.to_owned())),
    }
}

#[cfg(test)]
mod tests {
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
}
