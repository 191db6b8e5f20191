//! Workflows and business hours as they sit in the workspace document.
//!
//! `workflows {id → {name, enabled, order, trigger {kind, minutes?},
//! conditions [{kind, channels? | text? | domains?}], steps [{kind, agent? |
//! agents? | body?}]}}`; `settings.business_hours {utc_offset_minutes, days
//! [mon…], opens, closes}`. A workflow is always written whole.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, AutomergeError, ObjId, ObjType, ReadDoc, ScalarValue, Value};

use super::{BusinessHours, Condition, Step, Trigger, Workflow};
use crate::doc_io::{self as io, ReadError};
use crate::ids::WorkflowId;

const WORKFLOW_KEYS: &[&str] = &["name", "enabled", "order", "trigger", "conditions", "steps"];
const TRIGGER_KEYS: &[&str] = &["kind", "minutes"];
const CONDITION_KEYS: &[&str] = &["kind", "channels", "text", "domains"];
const STEP_KEYS: &[&str] = &["kind", "agent", "agents", "body"];
const HOURS_KEYS: &[&str] = &["utc_offset_minutes", "days", "opens", "closes"];

fn invalid(field: &str, reason: impl Into<String>) -> ReadError {
    ReadError::Invalid {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

fn small<T: TryFrom<i64>>(field: &str, value: i64) -> Result<T, ReadError> {
    T::try_from(value).map_err(|_| invalid(field, format!("{value} is out of range")))
}

/// A list of strings parsed as `T`.
fn list<T: std::str::FromStr, D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<Vec<T>, ReadError>
where
    T::Err: std::fmt::Display,
{
    let list = io::object(doc, obj, key, ObjType::List)?;
    let mut out = Vec::with_capacity(doc.length(&list));
    for index in 0..doc.length(&list) {
        match doc.get(&list, index)? {
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Str(text) => out.push(io::parse(key, text)?),
                _ => return Err(invalid(key, "should be a list of text")),
            },
            _ => return Err(invalid(key, "should be a list of text")),
        }
    }
    Ok(out)
}

fn put_list(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    items: impl IntoIterator<Item = String>,
) -> Result<(), AutomergeError> {
    let list = doc.put_object(obj, key, ObjType::List)?;
    for (index, item) in items.into_iter().enumerate() {
        doc.insert(&list, index, item)?;
    }
    Ok(())
}

/// Every workflow in the `workflows` map (absent in documents made before
/// workflows existed: none).
pub(crate) fn read_all<D: ReadDoc>(
    doc: &D,
    root: &ObjId,
) -> Result<BTreeMap<WorkflowId, Workflow>, ReadError> {
    let mut workflows = BTreeMap::new();
    if io::value(doc, root, "workflows")?.is_none() {
        return Ok(workflows);
    }
    let map = io::object(doc, root, "workflows", ObjType::Map)?;
    for id in doc.keys(&map) {
        let obj = io::object(doc, &map, &id, ObjType::Map)?;
        let id: WorkflowId = io::parse("workflows", &id)?;
        let workflow = read_one(doc, &obj, id.clone())?;
        workflows.insert(id, workflow);
    }
    Ok(workflows)
}

fn read_one<D: ReadDoc>(doc: &D, obj: &ObjId, id: WorkflowId) -> Result<Workflow, ReadError> {
    io::only_keys(doc, obj, WORKFLOW_KEYS)?;
    let trigger_obj = io::object(doc, obj, "trigger", ObjType::Map)?;
    io::only_keys(doc, &trigger_obj, TRIGGER_KEYS)?;
    let trigger = match io::string(doc, &trigger_obj, "kind")?.as_str() {
        "conversation_created" => Trigger::ConversationCreated,
        "customer_message" => Trigger::CustomerMessage,
        "conversation_reopened" => Trigger::ConversationReopened,
        "unassigned_for" => Trigger::UnassignedFor {
            minutes: small("minutes", io::int(doc, &trigger_obj, "minutes")?)?,
        },
        other => {
            return Err(invalid(
                "trigger.kind",
                format!("unknown trigger {other:?}"),
            ));
        }
    };
    let conditions_obj = io::object(doc, obj, "conditions", ObjType::List)?;
    let mut conditions = Vec::new();
    for c in io::list_of_maps(doc, &conditions_obj, "conditions")? {
        io::only_keys(doc, &c, CONDITION_KEYS)?;
        conditions.push(match io::string(doc, &c, "kind")?.as_str() {
            "channel_in" => Condition::ChannelIn {
                channels: list(doc, &c, "channels")?,
            },
            "text_contains" => Condition::TextContains {
                text: io::string(doc, &c, "text")?,
            },
            "email_domain" => Condition::EmailDomain {
                domains: list(doc, &c, "domains")?,
            },
            "within_business_hours" => Condition::WithinBusinessHours,
            "outside_business_hours" => Condition::OutsideBusinessHours,
            other => {
                return Err(invalid(
                    "conditions.kind",
                    format!("unknown condition {other:?}"),
                ));
            }
        });
    }
    let steps_obj = io::object(doc, obj, "steps", ObjType::List)?;
    let mut steps = Vec::new();
    for s in io::list_of_maps(doc, &steps_obj, "steps")? {
        io::only_keys(doc, &s, STEP_KEYS)?;
        steps.push(match io::string(doc, &s, "kind")?.as_str() {
            "assign" => Step::Assign {
                agent: io::parsed(doc, &s, "agent")?,
            },
            "round_robin" => Step::RoundRobin {
                agents: list(doc, &s, "agents")?,
            },
            "least_busy" => Step::LeastBusy {
                agents: list(doc, &s, "agents")?,
            },
            "unassign" => Step::Unassign,
            "note" => Step::Note {
                body: io::string(doc, &s, "body")?,
            },
            other => return Err(invalid("steps.kind", format!("unknown step {other:?}"))),
        });
    }
    Ok(Workflow {
        id,
        name: io::string(doc, obj, "name")?,
        enabled: io::boolean(doc, obj, "enabled")?,
        order: small("order", io::int(doc, obj, "order")?)?,
        trigger,
        conditions,
        steps,
    })
}

/// Writes `workflow` whole under its id in the `workflows` map `map`.
pub(crate) fn write_one(
    doc: &mut AutoCommit,
    map: &ObjId,
    workflow: &Workflow,
) -> Result<(), AutomergeError> {
    let obj = doc.put_object(map, workflow.id.as_str(), ObjType::Map)?;
    doc.put(&obj, "name", workflow.name.trim())?;
    doc.put(&obj, "enabled", workflow.enabled)?;
    doc.put(&obj, "order", i64::from(workflow.order))?;
    let trigger = doc.put_object(&obj, "trigger", ObjType::Map)?;
    let kind = match workflow.trigger {
        Trigger::ConversationCreated => "conversation_created",
        Trigger::CustomerMessage => "customer_message",
        Trigger::ConversationReopened => "conversation_reopened",
        Trigger::UnassignedFor { minutes } => {
            doc.put(&trigger, "minutes", i64::from(minutes))?;
            "unassigned_for"
        }
    };
    doc.put(&trigger, "kind", kind)?;
    let conditions = doc.put_object(&obj, "conditions", ObjType::List)?;
    for (index, condition) in workflow.conditions.iter().enumerate() {
        let c = doc.insert_object(&conditions, index, ObjType::Map)?;
        let kind = match condition {
            Condition::ChannelIn { channels } => {
                put_list(doc, &c, "channels", channels.iter().map(|c| c.to_string()))?;
                "channel_in"
            }
            Condition::TextContains { text } => {
                doc.put(&c, "text", text.as_str())?;
                "text_contains"
            }
            Condition::EmailDomain { domains } => {
                let domains = domains.iter().map(|d| super::normalize_domain(d));
                put_list(doc, &c, "domains", domains)?;
                "email_domain"
            }
            Condition::WithinBusinessHours => "within_business_hours",
            Condition::OutsideBusinessHours => "outside_business_hours",
        };
        doc.put(&c, "kind", kind)?;
    }
    let steps = doc.put_object(&obj, "steps", ObjType::List)?;
    for (index, step) in workflow.steps.iter().enumerate() {
        let s = doc.insert_object(&steps, index, ObjType::Map)?;
        let kind = match step {
            Step::Assign { agent } => {
                doc.put(&s, "agent", agent.as_str())?;
                "assign"
            }
            Step::RoundRobin { agents } => {
                put_list(doc, &s, "agents", agents.iter().map(|a| a.to_string()))?;
                "round_robin"
            }
            Step::LeastBusy { agents } => {
                put_list(doc, &s, "agents", agents.iter().map(|a| a.to_string()))?;
                "least_busy"
            }
            Step::Unassign => "unassign",
            Step::Note { body } => {
                doc.put(&s, "body", body.as_str())?;
                "note"
            }
        };
        doc.put(&s, "kind", kind)?;
    }
    Ok(())
}

/// The business hours in the settings map (the default when absent).
pub(crate) fn read_hours<D: ReadDoc>(
    doc: &D,
    settings: &ObjId,
) -> Result<BusinessHours, ReadError> {
    if io::value(doc, settings, "business_hours")?.is_none() {
        return Ok(BusinessHours::default());
    }
    let obj = io::object(doc, settings, "business_hours", ObjType::Map)?;
    io::only_keys(doc, &obj, HOURS_KEYS)?;
    let hours = BusinessHours {
        utc_offset_minutes: small(
            "utc_offset_minutes",
            io::int(doc, &obj, "utc_offset_minutes")?,
        )?,
        days: list(doc, &obj, "days")?.into_iter().collect(),
        opens: small("opens", io::int(doc, &obj, "opens")?)?,
        closes: small("closes", io::int(doc, &obj, "closes")?)?,
    };
    hours.check().map_err(|e| invalid("business_hours", e))?;
    Ok(hours)
}

/// Writes the business hours whole into the settings map.
pub(crate) fn write_hours(
    doc: &mut AutoCommit,
    settings: &ObjId,
    hours: &BusinessHours,
) -> Result<(), AutomergeError> {
    let obj = doc.put_object(settings, "business_hours", ObjType::Map)?;
    doc.put(
        &obj,
        "utc_offset_minutes",
        i64::from(hours.utc_offset_minutes),
    )?;
    put_list(doc, &obj, "days", hours.days.iter().map(|d| d.to_string()))?;
    doc.put(&obj, "opens", i64::from(hours.opens))?;
    doc.put(&obj, "closes", i64::from(hours.closes))?;
    Ok(())
}
