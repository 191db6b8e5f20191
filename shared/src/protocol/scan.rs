//! Counts the items of a CBOR value without building it, so a frame of a
//! million tiny items is refused before it costs a million allocations.

/// Why bytes were refused before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScanError {
    TooManyItems,
    TooDeep,
    Truncated,
}

/// Deepest nesting a Baton message has any use for.
const MAX_DEPTH: usize = 64;

/// Walks one CBOR data item in `bytes`; fails past `max_items` items.
pub(super) fn count_items(bytes: &[u8], max_items: usize) -> Result<usize, ScanError> {
    let mut at = 0usize;
    let mut items = 0usize;
    // Items still to read at each open level; `None` = indefinite length.
    let mut open: Vec<Option<u64>> = vec![Some(1)];
    while let Some(top) = open.last_mut() {
        match top {
            Some(0) => {
                open.pop();
                continue;
            }
            Some(n) => *n -= 1,
            None => {
                if bytes.get(at) == Some(&0xff) {
                    at += 1;
                    open.pop();
                    continue;
                }
            }
        }
        items += 1;
        if items > max_items {
            return Err(ScanError::TooManyItems);
        }
        let head = *bytes.get(at).ok_or(ScanError::Truncated)?;
        at += 1;
        let major = head >> 5;
        let info = head & 0x1f;
        let argument = match info {
            0..=23 => Some(u64::from(info)),
            24..=27 => {
                let len = 1usize << (info - 24);
                let raw = bytes.get(at..at + len).ok_or(ScanError::Truncated)?;
                at += len;
                Some(raw.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
            }
            31 => None,
            _ => return Err(ScanError::Truncated),
        };
        let nested = match (major, argument) {
            (0 | 1 | 7, _) => None,
            (2 | 3, Some(len)) => {
                let len = usize::try_from(len).map_err(|_| ScanError::Truncated)?;
                at = at.checked_add(len).ok_or(ScanError::Truncated)?;
                if at > bytes.len() {
                    return Err(ScanError::Truncated);
                }
                None
            }
            // Indefinite strings are chunks of definite strings.
            (2 | 3, None) => Some(None),
            (4, n) => Some(n),
            (5, n) => Some(n.map(|n| n.saturating_mul(2))),
            (6, _) => Some(Some(1)),
            _ => return Err(ScanError::Truncated),
        };
        if let Some(level) = nested {
            if open.len() > MAX_DEPTH {
                return Err(ScanError::TooDeep);
            }
            open.push(level);
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbor(value: &ciborium::Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        ciborium::into_writer(value, &mut bytes).unwrap();
        bytes
    }

    #[test]
    fn counts_what_ciborium_writes() {
        use ciborium::Value;
        let value = Value::Map(vec![
            (Value::Text("type".into()), Value::Text("sync".into())),
            (
                Value::Text("data".into()),
                Value::Tag(64, Box::new(Value::Bytes(vec![1, 2, 3]))),
            ),
            (
                Value::Text("ids".into()),
                Value::Array(vec![Value::Integer(1.into()), Value::Null]),
            ),
        ]);
        // the map, 3 keys, 3 values, the tag's bytes, the array's 2 items
        assert_eq!(count_items(&cbor(&value), 100), Ok(10));
    }

    #[test]
    fn a_flood_of_tiny_items_is_refused_and_garbage_never_panics() {
        let mut flood = vec![0x9a, 0x00, 0x10, 0x00, 0x00];
        flood.extend(std::iter::repeat_n(0x00, 1 << 20));
        assert_eq!(count_items(&flood, 10_000), Err(ScanError::TooManyItems));
        assert_eq!(
            count_items(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 10),
            Err(ScanError::Truncated)
        );
        let deep = vec![0x81; 1000];
        assert_eq!(count_items(&deep, 10_000), Err(ScanError::TooDeep));
        for n in 0..=255u8 {
            let _ = count_items(&[n, n, n], 10);
        }
    }
}
