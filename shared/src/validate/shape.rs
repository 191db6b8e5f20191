//! The shape of a change chunk, read without expanding it.
//!
//! A change's operations are stored in run-length encoded columns, so a few
//! hundred bytes can stand for a million operations. Automerge counts them
//! by walking every one, and applies them all before anything can be
//! refused. This reads the chunk's header and sums each column's runs
//! instead: the work is bounded by the bytes, whatever the chunk claims,
//! and nothing larger than the limits ever reaches automerge.
//!
//! Format: <https://alexjg.github.io/automerge-storage-docs/#change-chunks>.

use automerge::ChangeHash;

use super::{Violation, check_size};
use crate::limits;

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHANGE_CHUNK: u8 = 1;
/// The column holding each operation's action: one value per operation.
const ACTION_COLUMN: u32 = 4;

/// How a column's values are encoded (the low three bits of its spec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// Run-length encoded unsigned LEB128 (group, actor, integer, value metadata).
    RleUnsigned,
    /// Run-length encoded signed LEB128 deltas.
    RleSigned,
    /// Run-length encoded length-prefixed strings.
    RleString,
    /// Alternating runs of false and true.
    Boolean,
    /// Raw bytes (values, sized by the value metadata column).
    Raw,
}

impl Encoding {
    fn of(spec: u32) -> Encoding {
        match spec & 0b111 {
            0 | 1 | 2 | 6 => Encoding::RleUnsigned,
            3 => Encoding::RleSigned,
            4 => Encoding::Boolean,
            5 => Encoding::RleString,
            _ => Encoding::Raw,
        }
    }
}

/// What a change chunk says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeShape {
    /// The changes it builds on.
    pub deps: Vec<ChangeHash>,
    /// The actor id of whoever wrote it, as bytes.
    pub actor: Vec<u8>,
    /// Its number among that actor's changes.
    pub seq: u64,
    /// The counter of its first operation.
    pub start_op: u64,
    /// How many operations the change holds.
    pub ops: usize,
    /// The chunk's size in bytes.
    pub bytes: usize,
}

/// Splits `bytes` into the change chunks it holds one after another (a
/// peer speaking automerge's v2 sync sends its changes joined as one).
pub fn split_changes(bytes: &[u8]) -> Result<Vec<&[u8]>, Violation> {
    let mut chunks = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let mut header = Reader::new(rest);
        header.take(9)?; // magic, checksum, chunk type
        let len = header.uleb()?;
        let header_len = rest.len() - header.bytes.len();
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| header_len.checked_add(len))
            .filter(|end| *end <= rest.len())
            .ok_or_else(|| not_a_change("it ends early"))?;
        chunks.push(&rest[..end]);
        rest = &rest[end..];
        check_size(
            "the sync message's changes",
            chunks.len(),
            limits::MAX_CHANGES_PER_MESSAGE,
        )?;
    }
    Ok(chunks)
}

/// Reads `chunk` as one uncompressed change chunk and checks it against the
/// limits on a change; anything else (a document, a compressed or bundled
/// chunk, trailing bytes, a column past its limit) is refused.
pub fn change_shape(chunk: &[u8]) -> Result<ChangeShape, Violation> {
    check_size("the change", chunk.len(), limits::MAX_CHANGE_BYTES)?;
    let mut input = Reader::new(chunk);
    if input.take(4)? != MAGIC {
        return Err(not_a_change("it does not start like an automerge chunk"));
    }
    input.take(4)?; // checksum: automerge checks it when it parses the change
    if input.byte()? != CHANGE_CHUNK {
        return Err(not_a_change(
            "only single uncompressed changes are accepted; send changes, not documents",
        ));
    }
    let len = input.length()?;
    let mut data = Reader::new(input.take(len)?);
    if !input.is_empty() {
        return Err(not_a_change("bytes follow the change"));
    }

    let deps_count = data.length()?;
    check_size(
        "the change's dependencies",
        deps_count,
        limits::MAX_CHANGE_DEPS,
    )?;
    let mut deps = Vec::with_capacity(deps_count);
    for _ in 0..deps_count {
        let hash = ChangeHash::try_from(data.take(32)?)
            .map_err(|_| not_a_change("a dependency is not a change hash"))?;
        deps.push(hash);
    }
    let actor = data
        .sized("the change's actor", limits::MAX_ACTOR_BYTES)?
        .to_vec();
    let seq = data.uleb()?;
    let start_op = data.uleb()?;
    if start_op == 0 {
        return Err(not_a_change("its first operation counter is zero"));
    }
    data.sleb()?; // timestamp
    data.sized("the change's message", limits::MAX_CHANGE_MESSAGE_BYTES)?;
    let others = data.length()?;
    check_size(
        "the change's other actors",
        others,
        limits::MAX_CHANGE_ACTORS,
    )?;
    for _ in 0..others {
        data.sized("an actor", limits::MAX_ACTOR_BYTES)?;
    }

    let columns = data.length()?;
    let mut specs = Vec::with_capacity(columns.min(64));
    for _ in 0..columns {
        let spec = u32::try_from(data.uleb()?).map_err(|_| not_a_change("a column spec"))?;
        let len = data.length()?;
        specs.push((spec, len));
    }
    let mut ops = 0;
    for (spec, len) in specs {
        if spec & 0b1000 != 0 {
            return Err(not_a_change("its columns are compressed"));
        }
        let column = data.take(len)?;
        let values = count_values(column, Encoding::of(spec))?;
        check_size(
            "a column of the change",
            values,
            limits::MAX_CHANGE_COLUMN_VALUES,
        )?;
        if spec >> 4 == ACTION_COLUMN && Encoding::of(spec) == Encoding::RleUnsigned {
            ops = values;
        }
    }
    check_size("the change's operations", ops, limits::MAX_CHANGE_OPS)?;
    Ok(ChangeShape {
        deps,
        actor,
        seq,
        start_op,
        ops,
        bytes: chunk.len(),
    })
}

/// How many values a column holds, reading run headers only.
fn count_values(column: &[u8], encoding: Encoding) -> Result<usize, Violation> {
    let mut input = Reader::new(column);
    let mut count: usize = 0;
    let add = |count: usize, n: u64| -> Result<usize, Violation> {
        usize::try_from(n)
            .ok()
            .and_then(|n| count.checked_add(n))
            .filter(|c| *c <= limits::MAX_CHANGE_COLUMN_VALUES)
            .ok_or_else(|| Violation::TooLarge {
                what: "a column of the change".to_owned(),
                size: limits::MAX_CHANGE_COLUMN_VALUES + 1,
                limit: limits::MAX_CHANGE_COLUMN_VALUES,
            })
    };
    match encoding {
        Encoding::Raw => return Ok(0),
        Encoding::Boolean => {
            while !input.is_empty() {
                count = add(count, input.uleb()?)?;
            }
        }
        _ => {
            while !input.is_empty() {
                let header = input.sleb()?;
                if header > 0 {
                    count = add(count, header.unsigned_abs())?;
                    input.value(encoding)?;
                } else if header < 0 {
                    let n = header.unsigned_abs();
                    count = add(count, n)?;
                    for _ in 0..n {
                        input.value(encoding)?;
                    }
                } else {
                    count = add(count, input.uleb()?)?;
                }
            }
        }
    }
    Ok(count)
}

fn not_a_change(why: &str) -> Violation {
    Violation::malformed(format!("not a valid change: {why}"))
}

/// A cursor over untrusted bytes; every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Violation> {
        if n > self.bytes.len() {
            return Err(not_a_change("it ends early"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, Violation> {
        Ok(self.take(1)?[0])
    }

    fn uleb(&mut self) -> Result<u64, Violation> {
        let mut value: u64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift > 63 || (shift == 63 && bits > 1) {
                return Err(not_a_change("a number is too long"));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    fn sleb(&mut self) -> Result<i64, Violation> {
        let mut value: i64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.byte()?;
            if shift >= 64 {
                return Err(not_a_change("a number is too long"));
            }
            value |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
        }
    }

    /// A length or count that must fit what is left of the input.
    fn length(&mut self) -> Result<usize, Violation> {
        let n = self.uleb()?;
        usize::try_from(n)
            .ok()
            // Every item takes at least a byte, so no count exceeds what is left.
            .filter(|n| *n <= self.bytes.len())
            .ok_or_else(|| not_a_change("a length runs past its end"))
    }

    /// Length-prefixed bytes of at most `limit`.
    fn sized(&mut self, what: &str, limit: usize) -> Result<&'a [u8], Violation> {
        let len = self.length()?;
        check_size(what, len, limit)?;
        self.take(len)
    }

    /// Skips one value of a run-length encoded column.
    fn value(&mut self, encoding: Encoding) -> Result<(), Violation> {
        match encoding {
            Encoding::RleUnsigned => self.uleb().map(drop),
            Encoding::RleSigned => self.sleb().map(drop),
            Encoding::RleString => {
                let len = self.length()?;
                self.take(len).map(drop)
            }
            Encoding::Boolean | Encoding::Raw => Ok(()),
        }
    }
}

/// Refuses a change not written the one way automerge writes it. Automerge
/// reads some malformed encodings (a flipped bit in a column) as the same
/// operations, under a hash computed from the bytes sent; stored, the
/// change is saved in its own encoding under another hash, and every later
/// change that names the hash the peer sent can no longer be loaded.
/// Costs one decode and encode of the change (tens of microseconds).
pub fn canonical(change: &automerge::Change) -> Result<(), Violation> {
    let again = automerge::Change::from(change.decode());
    if again.hash() == change.hash() {
        Ok(())
    } else {
        Err(not_a_change(
            "it is not encoded the way automerge encodes it",
        ))
    }
}

#[cfg(test)]
mod tests;
