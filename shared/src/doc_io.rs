//! Small typed accessors over Automerge maps, so no other module handles raw
//! values. Reading is strict: a missing key or a value of the wrong type is a
//! [`ReadError`], never a panic, because documents arrive from untrusted peers.

use std::str::FromStr;

use automerge::transaction::CommitOptions;
use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value, ValueRef};

mod entries;
pub(crate) use entries::Entries;

pub(crate) use crate::error::ReadError;

/// Commit options for one Baton change: a short message and the time in seconds.
pub(crate) fn commit_options(message: &str, at: crate::model::Millis) -> CommitOptions {
    CommitOptions::default()
        .with_message(message.to_owned())
        .with_time(at / 1000)
}

/// The value at `key` of the map `obj`, with the id of the write that made it.
pub(crate) fn value<'a, D: ReadDoc>(
    doc: &'a D,
    obj: &ObjId,
    key: &str,
) -> Result<Option<(Value<'a>, ObjId)>, ReadError> {
    Ok(doc.get(obj, key)?)
}

pub(crate) fn scalar<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<Option<ScalarValue>, ReadError> {
    as_scalar(key, value(doc, obj, key)?.as_ref().map(|(v, _)| v))
}

pub(crate) fn opt_str<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<Option<String>, ReadError> {
    as_opt_str(key, scalar(doc, obj, key)?)
}

pub(crate) fn string<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Result<String, ReadError> {
    required(key, opt_str(doc, obj, key)?)
}

pub(crate) fn parsed<T: FromStr, D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<T, ReadError>
where
    T::Err: std::fmt::Display,
{
    parse(key, &string(doc, obj, key)?)
}

pub(crate) fn parse<T: FromStr>(key: &str, text: &str) -> Result<T, ReadError>
where
    T::Err: std::fmt::Display,
{
    text.parse().map_err(|e: T::Err| ReadError::Invalid {
        field: key.to_owned(),
        reason: e.to_string(),
    })
}

pub(crate) fn int<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Result<i64, ReadError> {
    as_int(key, scalar(doc, obj, key)?)
}

pub(crate) fn opt_int<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<Option<i64>, ReadError> {
    as_opt_int(key, scalar(doc, obj, key)?)
}

pub(crate) fn boolean<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Result<bool, ReadError> {
    as_boolean(key, scalar(doc, obj, key)?)
}

/// The object at `key`, which must be of type `kind`.
pub(crate) fn object<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
    kind: ObjType,
) -> Result<ObjId, ReadError> {
    as_object(key, value(doc, obj, key)?, kind)
}

// The checks behind the accessors, shared with [`Entries`].

fn as_scalar(key: &str, found: Option<&Value<'_>>) -> Result<Option<ScalarValue>, ReadError> {
    match found {
        None => Ok(None),
        Some(Value::Scalar(s)) => Ok(Some(s.clone().into_owned())),
        Some(Value::Object(_)) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: "a plain value",
        }),
    }
}

fn as_opt_str(key: &str, found: Option<ScalarValue>) -> Result<Option<String>, ReadError> {
    match found {
        None | Some(ScalarValue::Null) => Ok(None),
        Some(ScalarValue::Str(s)) => Ok(Some(s.to_string())),
        Some(_) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: "text",
        }),
    }
}

fn as_int(key: &str, found: Option<ScalarValue>) -> Result<i64, ReadError> {
    let wrong = || ReadError::WrongType {
        field: key.to_owned(),
        expected: "a number",
    };
    match found {
        Some(ScalarValue::Int(i)) | Some(ScalarValue::Timestamp(i)) => Ok(i),
        Some(ScalarValue::Uint(u)) => i64::try_from(u).map_err(|_| wrong()),
        None => Err(ReadError::Missing(key.to_owned())),
        Some(_) => Err(wrong()),
    }
}

fn as_opt_int(key: &str, found: Option<ScalarValue>) -> Result<Option<i64>, ReadError> {
    match found {
        None | Some(ScalarValue::Null) => Ok(None),
        found => as_int(key, found).map(Some),
    }
}

fn as_boolean(key: &str, found: Option<ScalarValue>) -> Result<bool, ReadError> {
    match found {
        Some(ScalarValue::Boolean(b)) => Ok(b),
        None => Err(ReadError::Missing(key.to_owned())),
        Some(_) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: "true or false",
        }),
    }
}

fn as_object(
    key: &str,
    found: Option<(Value<'_>, ObjId)>,
    kind: ObjType,
) -> Result<ObjId, ReadError> {
    match found {
        Some((Value::Object(found), id)) if same_kind(found, kind) => Ok(id),
        Some(_) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: kind_name(kind),
        }),
        None => Err(ReadError::Missing(key.to_owned())),
    }
}

fn required<T>(key: &str, found: Option<T>) -> Result<T, ReadError> {
    found.ok_or_else(|| ReadError::Missing(key.to_owned()))
}

/// The objects of a list, each of which must be a map (read in one pass: a
/// lookup per index would cost a seek through the list each time).
pub(crate) fn list_of_maps<D: ReadDoc>(
    doc: &D,
    list: &ObjId,
    field: &str,
) -> Result<Vec<ObjId>, ReadError> {
    doc.list_range(list, ..)
        .map(|item| match item.value {
            ValueRef::Object(ObjType::Map) => Ok(item.id()),
            _ => Err(ReadError::WrongType {
                field: format!("{field}[{}]", item.index),
                expected: "a map",
            }),
        })
        .collect()
}

/// Refuses keys outside `allowed`: an honest client never writes them.
pub(crate) fn only_keys<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    allowed: &[&str],
) -> Result<(), ReadError> {
    for key in doc.keys(obj) {
        if !allowed.contains(&key.as_str()) {
            return Err(ReadError::Unexpected(key));
        }
    }
    Ok(())
}

fn same_kind(found: ObjType, wanted: ObjType) -> bool {
    matches!(
        (found, wanted),
        (ObjType::Map, ObjType::Map)
            | (ObjType::Table, ObjType::Map)
            | (ObjType::List, ObjType::List)
            | (ObjType::Text, ObjType::Text)
    )
}

fn kind_name(kind: ObjType) -> &'static str {
    match kind {
        ObjType::Map | ObjType::Table => "a map",
        ObjType::List => "a list",
        ObjType::Text => "text",
    }
}
