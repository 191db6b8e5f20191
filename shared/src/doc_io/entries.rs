//! One map's entries, read in a single pass.
//!
//! Each `get` on an Automerge map seeks through the document's operations
//! again; reading a conversation that way made assigning and validating grow
//! with the length of its history. A map's entries are read once here and
//! looked up in memory, with the same strict checks as the other accessors.

use std::str::FromStr;

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};

use super::{ReadError, as_boolean, as_int, as_object, as_opt_str, as_scalar, parse, required};

/// The keys, winning values and write ids of one map object.
pub(crate) struct Entries {
    entries: Vec<(String, Value<'static>, ObjId)>,
}

impl Entries {
    /// Reads every key of `obj` (a map; anything else reads as empty).
    pub(crate) fn of<D: ReadDoc>(doc: &D, obj: &ObjId) -> Self {
        let entries = doc
            .map_range(obj, ..)
            .map(|item| {
                let id = item.id();
                (item.key.into_owned(), item.value.into_value(), id)
            })
            .collect();
        Entries { entries }
    }

    fn value(&self, key: &str) -> Option<&(String, Value<'static>, ObjId)> {
        self.entries.iter().find(|(k, _, _)| k == key)
    }

    /// Refuses keys outside `allowed`: an honest client never writes them.
    pub(crate) fn only_keys(&self, allowed: &[&str]) -> Result<(), ReadError> {
        match self
            .entries
            .iter()
            .find(|(key, _, _)| !allowed.contains(&key.as_str()))
        {
            Some((key, _, _)) => Err(ReadError::Unexpected(key.clone())),
            None => Ok(()),
        }
    }

    fn scalar(&self, key: &str) -> Result<Option<ScalarValue>, ReadError> {
        as_scalar(key, self.value(key).map(|(_, v, _)| v))
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<String>, ReadError> {
        as_opt_str(key, self.scalar(key)?)
    }

    pub(crate) fn string(&self, key: &str) -> Result<String, ReadError> {
        required(key, self.opt_str(key)?)
    }

    pub(crate) fn parsed<T: FromStr>(&self, key: &str) -> Result<T, ReadError>
    where
        T::Err: std::fmt::Display,
    {
        parse(key, &self.string(key)?)
    }

    pub(crate) fn opt_parsed<T: FromStr>(&self, key: &str) -> Result<Option<T>, ReadError>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_str(key)?.map(|text| parse(key, &text)).transpose()
    }

    pub(crate) fn int(&self, key: &str) -> Result<i64, ReadError> {
        as_int(key, self.scalar(key)?)
    }

    pub(crate) fn boolean(&self, key: &str) -> Result<bool, ReadError> {
        as_boolean(key, self.scalar(key)?)
    }

    /// The object at `key`, which must be of type `kind`.
    pub(crate) fn object(&self, key: &str, kind: ObjType) -> Result<ObjId, ReadError> {
        as_object(
            key,
            self.value(key).map(|(_, v, id)| (v.clone(), id.clone())),
            kind,
        )
    }
}
