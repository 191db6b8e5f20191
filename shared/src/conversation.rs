//! The conversation document: its layout, creation, and reading it into a
//! [`Conversation`]. Writes that change a conversation live in `operations`.
//!
//! Layout (root map): `id`, `channel`, `subject`, `customer {id, name, email}`,
//! `created_at`, `status`, `assignee {agent, kind, by, at}`, `messages` (list),
//! `activity` (list). `assignee` is only ever replaced whole and read with
//! `get_all`, so concurrent writes stay visible as competing values.

use std::collections::HashMap;

use automerge::hydrate;
use automerge::transaction::Transactable;
use automerge::{
    AutoCommit, AutomergeError, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, ScalarValueRef, Value,
    ValueRef,
};

use crate::doc_io::{self as io, Entries, ReadError};
use crate::ids::{AgentId, BatchId, ChannelId, ConversationId, MessageId};
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
    /// Its id, which its document id is derived from.
    pub id: ConversationId,
    /// The channel the customer wrote to.
    pub channel: ChannelId,
    /// The subject, as the customer gave it.
    pub subject: String,
    /// Who wrote.
    pub customer: Customer,
    /// When the conversation began.
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
    doc.commit_with(io::commit_options("create", new.at));
    Ok(doc)
}

/// Reads the whole conversation, every competing assignment included.
/// Strict: a document that does not follow the layout is a [`ReadError`].
///
/// ```
/// use baton_shared::conversation::{self, NewConversation};
/// use baton_shared::model::{Customer, Status};
///
/// let doc = conversation::create(&NewConversation {
///     id: "cnv_refund".parse()?,
///     channel: "chn_email".parse()?,
///     subject: "Where is my refund?".to_owned(),
///     customer: Customer {
///         id: "cus_dee".to_owned(),
///         name: "Dee".to_owned(),
///         email: "dee@example.com".to_owned(),
///     },
///     at: 1_700_000_000_000,
/// })?;
/// let read = conversation::read(&doc)?;
/// assert_eq!(read.subject, "Where is my refund?");
/// assert_eq!(read.status, Status::Open);
/// assert_eq!(read.assignee(), None);
/// assert!(read.messages.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read<D: ReadDoc>(doc: &D) -> Result<Conversation, ReadError> {
    let root = Entries::of(doc, &ROOT);
    root.only_keys(key::ROOT_KEYS)?;
    let customer = Entries::of(doc, &root.object(key::CUSTOMER, ObjType::Map)?);
    customer.only_keys(key::CUSTOMER_KEYS)?;
    let customer = Customer {
        id: customer.string("id")?,
        name: customer.string("name")?,
        email: customer.string("email")?,
    };
    let messages_obj = root.object(key::MESSAGES, ObjType::List)?;
    let messages = io::list_of_maps(doc, &messages_obj, key::MESSAGES)?
        .iter()
        .map(|obj| read_message(doc, obj))
        .collect::<Result<Vec<_>, _>>()?;
    let activity_obj = root.object(key::ACTIVITY, ObjType::List)?;
    let activity = io::list_of_maps(doc, &activity_obj, key::ACTIVITY)?
        .iter()
        .map(|obj| read_activity(doc, obj))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Conversation {
        id: root.parsed(key::ID)?,
        channel: root.parsed(key::CHANNEL)?,
        subject: root.string(key::SUBJECT)?,
        customer,
        created_at: root.int(key::CREATED_AT)?,
        status: root.parsed(key::STATUS)?,
        assignments: read_assignments(doc)?.into_iter().map(|(a, _)| a).collect(),
        messages,
        activity,
    })
}

/// What an assignment decides on, read without reading every message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    /// Open or resolved.
    pub status: Status,
    /// Every competing value of `assignee`.
    pub assignments: Vec<Assignment>,
    /// How many activity entries the trail has.
    pub activity: usize,
    /// The latest timestamp anywhere in the conversation, as
    /// [`Conversation::latest_at`] gives it.
    pub latest_at: Millis,
}

impl Standing {
    /// The agent in charge, or `None` while unassigned.
    pub fn assignee(&self) -> Option<&AgentId> {
        crate::assignment::effective_assignee(&self.assignments).and_then(|a| a.agent.as_ref())
    }
}

/// The conversation's [`Standing`]: its status, assignments, the length of
/// its trail and its latest timestamp. Of each message and activity entry
/// only `at` is read, so this costs a fraction of [`read`].
pub fn standing<D: ReadDoc>(doc: &D) -> Result<Standing, ReadError> {
    let assignments: Vec<Assignment> = read_assignments(doc)?.into_iter().map(|(a, _)| a).collect();
    let created_at = io::int(doc, &ROOT, key::CREATED_AT)?;
    let latest_at = assignments
        .iter()
        .map(|a| a.at)
        .fold(created_at, Millis::max);
    let (_, messages_at) = entries_and_latest(doc, key::MESSAGES)?;
    let (activity, activity_at) = entries_and_latest(doc, key::ACTIVITY)?;
    let latest_at = latest_at.max(messages_at).max(activity_at);
    Ok(Standing {
        status: io::parsed(doc, &ROOT, key::STATUS)?,
        assignments,
        activity,
        latest_at,
    })
}

/// How many entries the list `field` of the root has, and the latest `at`
/// among them (`Millis::MIN` when it has none).
fn entries_and_latest<D: ReadDoc>(doc: &D, field: &str) -> Result<(usize, Millis), ReadError> {
    let list = io::object(doc, &ROOT, field, ObjType::List)?;
    let entries = io::list_of_maps(doc, &list, field)?;
    let mut latest = Millis::MIN;
    for entry in &entries {
        latest = latest.max(io::int(doc, entry, "at")?);
    }
    Ok((entries.len(), latest))
}

/// Every competing value of `assignee`, with the id of the write that made it.
pub(crate) fn read_assignments<D: ReadDoc>(doc: &D) -> Result<Vec<(Assignment, ObjId)>, ReadError> {
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
    let fields = Entries::of(doc, obj);
    fields.only_keys(key::ASSIGNMENT_KEYS)?;
    Ok(Assignment {
        agent: fields.opt_parsed("agent")?,
        kind: fields.parsed("kind")?,
        by: fields.parsed("by")?,
        at: fields.int("at")?,
    })
}

fn read_message<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Message, ReadError> {
    let fields = Entries::of(doc, obj);
    fields.only_keys(key::MESSAGE_KEYS)?;
    let author_fields = Entries::of(doc, &fields.object("author", ObjType::Map)?);
    author_fields.only_keys(key::AUTHOR_KEYS)?;
    let author = match author_fields.string("kind")?.as_str() {
        "customer" => Author::Customer,
        "system" => Author::System,
        "agent" => Author::Agent(author_fields.parsed("id")?),
        other => {
            return Err(ReadError::Invalid {
                field: "author.kind".to_owned(),
                reason: format!("unknown author kind {other:?}"),
            });
        }
    };
    let kind = match fields.string("kind")?.as_str() {
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
        id: fields.parsed::<MessageId>("id")?,
        kind,
        author,
        body: fields.string("body")?,
        at: fields.int("at")?,
        leave_unassigned: fields.boolean("leave_unassigned")?,
    })
}

fn read_activity<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Activity, ReadError> {
    let fields = Entries::of(doc, obj);
    fields.only_keys(key::ACTIVITY_KEYS)?;
    let agent = || fields.parsed::<AgentId>("agent");
    let previous = || fields.opt_parsed::<AgentId>("previous");
    let batch = || fields.opt_parsed::<BatchId>("batch");
    let event = match fields.string("event")?.as_str() {
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
            let losers_obj = fields.object("losers", ObjType::List)?;
            let losers = doc
                .list_range(&losers_obj, ..)
                .map(|item| match item.value {
                    ValueRef::Scalar(ScalarValueRef::Str(text)) => io::parse("losers", &text),
                    _ => Err(bad_losers()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            ActivityEvent::Settled {
                winner: fields.opt_parsed("winner")?,
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
        at: fields.int("at")?,
        by: fields.parsed("by")?,
        event,
    })
}

fn bad_losers() -> ReadError {
    ReadError::WrongType {
        field: "losers".to_owned(),
        expected: "a list of agent ids",
    }
}

// New maps are written whole with `batch_create_object`: two splices of the
// document's operations instead of one per field, which is most of the cost
// of an assignment or a reply.

/// Replaces `assignee` with a new map holding all four fields of one write.
pub(crate) fn write_assignment(
    doc: &mut AutoCommit,
    assignment: &Assignment,
) -> Result<(), AutomergeError> {
    let value = map([
        (
            "agent",
            opt_str(assignment.agent.as_ref().map(AgentId::as_str)),
        ),
        ("kind", assignment.kind.as_str().into()),
        ("by", assignment.by.to_string().as_str().into()),
        ("at", assignment.at.into()),
    ]);
    doc.batch_create_object(ROOT, key::ASSIGNEE, &value, false)?;
    Ok(())
}

/// Appends a message to the thread.
pub(crate) fn push_message(doc: &mut AutoCommit, message: &Message) -> Result<(), AutomergeError> {
    let list = list_obj(doc, key::MESSAGES)?;
    let (kind, id) = match &message.author {
        Author::Customer => ("customer", None),
        Author::System => ("system", None),
        Author::Agent(agent) => ("agent", Some(agent.as_str())),
    };
    let value = map([
        ("id", message.id.as_str().into()),
        ("kind", message.kind.as_str().into()),
        ("author", map([("kind", kind.into()), ("id", opt_str(id))])),
        ("body", message.body.as_str().into()),
        ("at", message.at.into()),
        (
            "leave_unassigned",
            hydrate::Value::scalar(message.leave_unassigned),
        ),
    ]);
    let end = doc.length(&list);
    doc.batch_create_object(&list, end, &value, true)?;
    Ok(())
}

/// Appends an entry to the activity trail.
pub(crate) fn push_activity(
    doc: &mut AutoCommit,
    activity: &Activity,
) -> Result<(), AutomergeError> {
    let list = list_obj(doc, key::ACTIVITY)?;
    let mut fields = vec![
        ("at", activity.at.into()),
        ("by", activity.by.to_string().as_str().into()),
        ("event", activity.event.name().into()),
    ];
    let previous = |previous: &Option<AgentId>| opt_str(previous.as_ref().map(AgentId::as_str));
    match &activity.event {
        ActivityEvent::Created | ActivityEvent::Resolved | ActivityEvent::Reopened => {}
        ActivityEvent::Assigned {
            agent,
            previous: before,
            batch,
        } => fields.extend([
            ("agent", agent.as_str().into()),
            ("previous", previous(before)),
            ("batch", opt_str(batch.as_ref().map(BatchId::as_str))),
        ]),
        ActivityEvent::Claimed { agent } => fields.push(("agent", agent.as_str().into())),
        ActivityEvent::Unassigned {
            previous: before,
            batch,
        } => fields.extend([
            ("previous", previous(before)),
            ("batch", opt_str(batch.as_ref().map(BatchId::as_str))),
        ]),
        ActivityEvent::Settled { winner, losers } => fields.extend([
            ("winner", previous(winner)),
            (
                "losers",
                hydrate::List::from(
                    losers
                        .iter()
                        .map(|loser| loser.as_str().into())
                        .collect::<Vec<hydrate::Value>>(),
                )
                .into(),
            ),
        ]),
    }
    let end = doc.length(&list);
    doc.batch_create_object(&list, end, &map(fields), true)?;
    Ok(())
}

/// A map value to write whole.
fn map<'a>(fields: impl IntoIterator<Item = (&'a str, hydrate::Value)>) -> hydrate::Value {
    hydrate::Map::from(fields.into_iter().collect::<HashMap<_, _>>()).into()
}

/// Text, or null for `None`.
fn opt_str(text: Option<&str>) -> hydrate::Value {
    match text {
        Some(text) => text.into(),
        None => hydrate::Value::scalar(ScalarValue::Null),
    }
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
mod tests;
