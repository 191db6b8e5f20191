//! The operations an honest client writes, checked one by one before the
//! change touches any copy of the document.
//!
//! Read views alone cannot tell an edit from a look-alike: replacing the
//! `messages` list with an identical copy reads the same, yet every reply
//! written concurrently against the old list is orphaned. So the rules here
//! are about objects, not values. A client may:
//! - create new objects and fill them in (a message, an activity entry, an
//!   assignment, a workflow);
//! - append to the conversation's `messages` and `activity`;
//! - put the few keys that exist to be overwritten (`status`, `assignee`,
//!   its own `away` and subscriptions; for admins, settings and workflows),
//!   naming as predecessors exactly the values it saw there.
//!
//! Anything else — deleting or replacing an object that exists, a second
//! write to a key in the same change, counters, text, marks, raw bytes — is
//! something no Baton client writes, and is refused.

use std::collections::{HashMap, HashSet};

use automerge::legacy::{Key, ObjectId, OpId, OpType};
use automerge::{
    ActorId, AutoCommit, Change, ObjId, ObjType, Prop, ROOT, ReadDoc, ScalarValue, Value,
};

use super::{DocumentKind, Principal, Violation};
use crate::limits;

/// Which keys of an object a client may write.
#[derive(Debug, Clone)]
enum Keys {
    Only(Vec<String>),
    /// Any key; `delete` says whether a key may also be removed.
    Any {
        delete: bool,
    },
}

impl Keys {
    fn allows(&self, key: &str, delete: bool) -> bool {
        match self {
            Keys::Only(keys) => !delete && keys.iter().any(|k| k == key),
            Keys::Any { delete: may } => !delete || *may,
        }
    }

    fn only(keys: &[&str]) -> Keys {
        Keys::Only(keys.iter().map(|k| (*k).to_owned()).collect())
    }
}

/// Where in the current document a principal's change may write.
#[derive(Debug, Default)]
struct Writable {
    keys: HashMap<ObjId, Vec<Keys>>,
    /// Lists new elements may be appended to.
    lists: HashSet<ObjId>,
}

impl Writable {
    fn allow(&mut self, obj: ObjId, keys: Keys) {
        self.keys.entry(obj).or_default().push(keys);
    }

    fn allows(&self, obj: &ObjId, key: &str, delete: bool) -> bool {
        self.keys
            .get(obj)
            .is_some_and(|all| all.iter().any(|k| k.allows(key, delete)))
    }
}

fn child(doc: &AutoCommit, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key) {
        Ok(Some((Value::Object(_), id))) => Some(id),
        _ => None,
    }
}

fn writable(doc: &AutoCommit, kind: DocumentKind, principal: &Principal) -> Writable {
    let mut w = Writable::default();
    match kind {
        DocumentKind::Conversation => {
            w.allow(ROOT, Keys::only(&["status", "assignee"]));
            for list in ["messages", "activity"] {
                if let Some(id) = child(doc, &ROOT, list) {
                    w.lists.insert(id);
                }
            }
        }
        DocumentKind::Workspace => {
            if let Some(me) = principal.agent() {
                if let Some(mine) =
                    child(doc, &ROOT, "agents").and_then(|a| child(doc, &a, me.as_str()))
                {
                    w.allow(mine, Keys::only(&["away"]));
                }
                if let Some(subs) = child(doc, &ROOT, "subscriptions") {
                    w.allow(subs.clone(), Keys::only(&[me.as_str()]));
                    if let Some(mine) = child(doc, &subs, me.as_str()) {
                        w.allow(mine, Keys::Any { delete: false });
                    }
                }
            }
            if principal.is_admin() {
                w.allow(ROOT, Keys::only(&["name"]));
                if let Some(settings) = child(doc, &ROOT, "settings") {
                    w.allow(
                        settings,
                        Keys::only(&["only_assignee_replies", "business_hours"]),
                    );
                }
                if let Some(workflows) = child(doc, &ROOT, "workflows") {
                    for id in doc.keys(&workflows) {
                        if let Some(one) = child(doc, &workflows, &id) {
                            w.allow(one, Keys::only(&["enabled", "order"]));
                        }
                    }
                    w.allow(workflows, Keys::Any { delete: true });
                }
            }
        }
    }
    w
}

/// Checks every operation of `change` against the current document.
pub(super) fn check(
    doc: &AutoCommit,
    change: &Change,
    kind: DocumentKind,
    principal: &Principal,
) -> Result<(), Violation> {
    let writable = writable(doc, kind, principal);
    let actor = change.actor_id();
    let start = change.start_op().get();
    let end = start.saturating_add(change.len() as u64);
    let made_here = |id: &OpId| id.actor() == actor && (start..end).contains(&id.counter());
    let expanded = change.decode();
    for op in &expanded.operations {
        check_action(&op.action)?;
        if op.pred.iter().any(made_here) {
            return Err(Violation::malformed(
                "the change overwrites or deletes its own operations",
            ));
        }
        if let Key::Map(key) = &op.key
            && key.len() > limits::MAX_KEY_BYTES
        {
            return Err(Violation::TooLarge {
                what: "a key".to_owned(),
                size: key.len(),
                limit: limits::MAX_KEY_BYTES,
            });
        }
        let existing = match &op.obj {
            ObjectId::Root => Some(ROOT),
            ObjectId::Id(id) if made_here(id) => None,
            ObjectId::Id(id) => Some(ObjId::Id(id.counter(), id.actor().clone(), 0)),
        };
        let Some(obj) = existing else {
            // Inside an object this change makes: fill it in, nothing more.
            if op.action == OpType::Delete || !op.pred.is_empty() {
                return Err(Violation::malformed("the change rewrites what it makes"));
            }
            continue;
        };
        if doc.object_type(&obj).is_err() {
            return Err(Violation::malformed(
                "the change writes to an object the document does not have",
            ));
        }
        let delete = op.action == OpType::Delete;
        match &op.key {
            Key::Map(key) => {
                if !writable.allows(&obj, key, delete) {
                    return Err(refusal(doc, kind, principal, &obj, Some(key)));
                }
                let named: HashSet<(u64, ActorId)> = op
                    .pred
                    .iter()
                    .map(|p| (p.counter(), p.actor().clone()))
                    .collect();
                if seen_at(doc, &obj, key, change)? != named {
                    return Err(Violation::malformed(
                        "an operation names predecessors other than the values its change had seen",
                    ));
                }
            }
            Key::Seq(_) => {
                if !op.insert || delete || !writable.lists.contains(&obj) {
                    return Err(refusal(doc, kind, principal, &obj, None));
                }
                if !op.pred.is_empty() {
                    return Err(Violation::malformed("an inserted element has predecessors"));
                }
            }
        }
    }
    Ok(())
}

/// The values at `obj.key` as the change's author saw them (at its dependencies).
fn seen_at(
    doc: &AutoCommit,
    obj: &ObjId,
    key: &str,
    change: &Change,
) -> Result<HashSet<(u64, ActorId)>, Violation> {
    let values = doc
        .get_all_at(obj, key, change.deps())
        .map_err(Violation::malformed)?;
    Ok(values
        .into_iter()
        .filter_map(|(_, id)| match id {
            ObjId::Id(counter, actor, _) => Some((counter, actor)),
            ObjId::Root => None,
        })
        .collect())
}

/// Baton documents hold maps, lists and plain scalars only.
fn check_action(action: &OpType) -> Result<(), Violation> {
    let refused = match action {
        OpType::Make(ObjType::Map | ObjType::List) | OpType::Delete => return Ok(()),
        OpType::Put(value) => match value {
            ScalarValue::Str(text) if text.len() > limits::MAX_MESSAGE_BYTES => {
                return Err(Violation::TooLarge {
                    what: "a text value".to_owned(),
                    size: text.len(),
                    limit: limits::MAX_MESSAGE_BYTES,
                });
            }
            ScalarValue::Str(_)
            | ScalarValue::Int(_)
            | ScalarValue::Uint(_)
            | ScalarValue::Boolean(_)
            | ScalarValue::Null => return Ok(()),
            _ => "a value of a kind Baton never writes",
        },
        OpType::Make(_) => "text or a table",
        OpType::Increment(_) => "a counter increment",
        OpType::MarkBegin(_) | OpType::MarkEnd(_) => "a text mark",
    };
    Err(Violation::malformed(format!("the change writes {refused}")))
}

/// Why a write to `obj` (at `key`) is refused, in the words of the document.
fn refusal(
    doc: &AutoCommit,
    kind: DocumentKind,
    principal: &Principal,
    obj: &ObjId,
    key: Option<&str>,
) -> Violation {
    // Each step up from `obj` to the root: (parent, where obj sits in it).
    let path: Vec<(ObjId, Prop)> = match doc.parents(obj) {
        Ok(parents) => parents.map(|p| (p.obj, p.prop)).collect(),
        Err(_) => Vec::new(),
    };
    // The root field the object hangs from (or the root field written).
    let top = match (path.last(), key) {
        (Some((_, Prop::Map(top))), _) => top.clone(),
        (None, Some(key)) if *obj == ROOT => key.to_owned(),
        _ => String::new(),
    };
    match kind {
        DocumentKind::Conversation => conversation_refusal(doc, obj, &path, &top),
        DocumentKind::Workspace => workspace_refusal(principal, &top),
    }
}

fn conversation_refusal(
    doc: &AutoCommit,
    obj: &ObjId,
    path: &[(ObjId, Prop)],
    top: &str,
) -> Violation {
    match top {
        "id" | "channel" | "subject" | "customer" | "created_at" => Violation::ImmutableField {
            field: top.replace('_', " "),
        },
        "messages" if *obj == ROOT => Violation::Replaces {
            what: "the conversation's messages".to_owned(),
        },
        "activity" if *obj == ROOT => Violation::Replaces {
            what: "the activity trail".to_owned(),
        },
        "messages" => {
            // A message map sits in the list; its author map one level lower.
            let message = match path {
                [_, _] => Some(obj.clone()),
                [(message, _), _, _] => Some(message.clone()),
                _ => None,
            };
            let id = match message.map(|m| doc.get(&m, "id")) {
                Some(Ok(Some((Value::Scalar(s), _)))) => s.as_str().unwrap_or_default().to_owned(),
                _ => "(unknown)".to_owned(),
            };
            Violation::EditedMessage { id }
        }
        "activity" => Violation::EditedActivity,
        "assignee" => Violation::EditedAssignment,
        "" => Violation::malformed("the change writes to an object that is no longer visible"),
        other => Violation::malformed(format!("a conversation has no field {other:?}")),
    }
}

fn workspace_refusal(principal: &Principal, top: &str) -> Violation {
    let what = match top {
        "agents" => "agents",
        "channels" => "channels",
        "subscriptions" => "another agent's subscriptions",
        "settings" | "name" => "the workspace settings",
        "workflows" => "workflows",
        "" => {
            return Violation::malformed(
                "the change writes to an object that is no longer visible",
            );
        }
        other => return Violation::malformed(format!("the workspace has no field {other:?}")),
    };
    if !principal.is_admin() {
        return Violation::AdminOnly {
            what: what.to_owned(),
        };
    }
    match top {
        "agents" | "channels" | "subscriptions" => Violation::ApiOnly {
            what: what.to_owned(),
        },
        _ => Violation::Replaces {
            what: format!("part of {what} (they are saved whole)"),
        },
    }
}
