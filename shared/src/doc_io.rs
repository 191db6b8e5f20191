//! Small typed accessors over Automerge maps, so no other module handles raw
//! values. Reading is strict: a missing key or a value of the wrong type is a
//! [`ReadError`], never a panic, because documents arrive from untrusted peers.

use std::str::FromStr;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};

/// Why a document does not read as a Baton document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("missing field {0:?}")]
    Missing(String),
    #[error("field {field:?} should be {expected}")]
    WrongType {
        field: String,
        expected: &'static str,
    },
    #[error("field {field:?}: {reason}")]
    Invalid { field: String, reason: String },
    #[error("unexpected field {0:?}")]
    Unexpected(String),
    #[error("document error: {0}")]
    Automerge(String),
}

impl From<automerge::AutomergeError> for ReadError {
    fn from(e: automerge::AutomergeError) -> Self {
        ReadError::Automerge(e.to_string())
    }
}

/// Read access to a document; implemented for `AutoCommit` and anything that reads.
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
    match value(doc, obj, key)? {
        None => Ok(None),
        Some((Value::Scalar(s), _)) => Ok(Some(s.into_owned())),
        Some((Value::Object(_), _)) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: "a plain value",
        }),
    }
}

pub(crate) fn opt_str<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<Option<String>, ReadError> {
    match scalar(doc, obj, key)? {
        None | Some(ScalarValue::Null) => Ok(None),
        Some(ScalarValue::Str(s)) => Ok(Some(s.to_string())),
        Some(_) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: "text",
        }),
    }
}

pub(crate) fn string<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Result<String, ReadError> {
    opt_str(doc, obj, key)?.ok_or_else(|| ReadError::Missing(key.to_owned()))
}

pub(crate) fn parsed<T: FromStr, D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<T, ReadError>
where
    T::Err: std::fmt::Display,
{
    let text = string(doc, obj, key)?;
    parse(key, &text)
}

pub(crate) fn opt_parsed<T: FromStr, D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<Option<T>, ReadError>
where
    T::Err: std::fmt::Display,
{
    opt_str(doc, obj, key)?
        .map(|text| parse(key, &text))
        .transpose()
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
    match scalar(doc, obj, key)? {
        Some(ScalarValue::Int(i)) | Some(ScalarValue::Timestamp(i)) => Ok(i),
        Some(ScalarValue::Uint(u)) => i64::try_from(u).map_err(|_| ReadError::WrongType {
            field: key.to_owned(),
            expected: "a number",
        }),
        None => Err(ReadError::Missing(key.to_owned())),
        Some(_) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: "a number",
        }),
    }
}

pub(crate) fn opt_int<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
) -> Result<Option<i64>, ReadError> {
    match scalar(doc, obj, key)? {
        None | Some(ScalarValue::Null) => Ok(None),
        Some(_) => int(doc, obj, key).map(Some),
    }
}

pub(crate) fn boolean<D: ReadDoc>(doc: &D, obj: &ObjId, key: &str) -> Result<bool, ReadError> {
    match scalar(doc, obj, key)? {
        Some(ScalarValue::Boolean(b)) => Ok(b),
        None => Err(ReadError::Missing(key.to_owned())),
        Some(_) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: "true or false",
        }),
    }
}

/// The object at `key`, which must be of type `kind`.
pub(crate) fn object<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    key: &str,
    kind: ObjType,
) -> Result<ObjId, ReadError> {
    match value(doc, obj, key)? {
        Some((Value::Object(found), id)) if same_kind(found, kind) => Ok(id),
        Some(_) => Err(ReadError::WrongType {
            field: key.to_owned(),
            expected: kind_name(kind),
        }),
        None => Err(ReadError::Missing(key.to_owned())),
    }
}

/// The objects of a list, each of which must be a map.
pub(crate) fn list_of_maps<D: ReadDoc>(
    doc: &D,
    list: &ObjId,
    field: &str,
) -> Result<Vec<ObjId>, ReadError> {
    let mut maps = Vec::with_capacity(doc.length(list));
    for index in 0..doc.length(list) {
        match doc.get(list, index)? {
            Some((Value::Object(ObjType::Map), id)) => maps.push(id),
            _ => {
                return Err(ReadError::WrongType {
                    field: format!("{field}[{index}]"),
                    expected: "a map",
                });
            }
        }
    }
    Ok(maps)
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

/// Writes an optional string as text or null.
pub(crate) fn put_opt_str(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    text: Option<&str>,
) -> Result<(), automerge::AutomergeError> {
    match text {
        Some(text) => doc.put(obj, key, text),
        None => doc.put(obj, key, ScalarValue::Null),
    }
}
