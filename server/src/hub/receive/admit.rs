//! A message's changes before anything is applied: read for their shape,
//! parsed, put in dependency order; and the gaps to ask the peer for.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use automerge::sync::{self, ChunkList};
use automerge::{AutoCommit, Change, ChangeHash};
use baton_shared::limits;
use baton_shared::validate::{Violation, canonical, change_shape, split_changes};

/// Whether `doc` holds the change `hash` (by its graph; `get_change_by_hash`
/// would rebuild the whole change).
pub(super) fn holds(doc: &mut AutoCommit, hash: &ChangeHash) -> bool {
    doc.get_missing_deps(std::slice::from_ref(hash)).is_empty()
}

/// Reads a message's changes: each must be a change chunk within the limits
/// ([`change_shape`]) before automerge parses it at all, and encoded as
/// automerge encodes it ([`canonical`]) before it is applied.
pub fn admit(chunks: &ChunkList) -> Result<Vec<Change>, Violation> {
    let mut changes = Vec::new();
    for chunk in chunks.iter() {
        for part in split_changes(chunk)? {
            if changes.len() >= limits::MAX_CHANGES_PER_MESSAGE {
                return Err(Violation::TooLarge {
                    what: "the sync message's changes".to_owned(),
                    size: changes.len() + 1,
                    limit: limits::MAX_CHANGES_PER_MESSAGE,
                });
            }
            change_shape(part)?;
            let change = Change::from_bytes(part.to_vec()).map_err(|e| Violation::Malformed {
                reason: format!("a change does not decode: {e}"),
            })?;
            // Automerge parses some corrupt changes it then panics on when
            // expanding them (an actor index past the change's actor table).
            catch_unwind(AssertUnwindSafe(|| canonical(&change))).map_err(|_| {
                Violation::Malformed {
                    reason: "a change does not decode: it names an actor it does not list"
                        .to_owned(),
                }
            })??;
            changes.push(change);
        }
    }
    Ok(changes)
}

/// `changes` in an order where each comes after those of them it depends on.
pub(super) fn in_dependency_order(changes: Vec<Change>) -> Vec<Change> {
    let index: HashMap<ChangeHash, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.hash(), i))
        .collect();
    let mut placed = vec![false; changes.len()];
    let mut order = Vec::with_capacity(changes.len());
    // Depth-first from each change: its dependencies among `changes` first.
    for start in 0..changes.len() {
        let mut stack = vec![(start, false)];
        while let Some((i, expanded)) = stack.pop() {
            if placed[i] {
                continue;
            }
            if expanded {
                placed[i] = true;
                order.push(i);
                continue;
            }
            stack.push((i, true));
            for dep in changes[i].deps() {
                if let Some(&d) = index.get(dep)
                    && !placed[d]
                {
                    stack.push((d, false));
                }
            }
        }
    }
    let mut slots: Vec<Option<Change>> = changes.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Asks the peer, in `reply`, for the changes the early ones wait for.
pub(super) fn ask_for_gaps(
    doc: &mut AutoCommit,
    early: &[Change],
    reply: &mut Option<sync::Message>,
) {
    let (Some(reply), false) = (reply.as_mut(), early.is_empty()) else {
        return;
    };
    let waiting: HashSet<ChangeHash> = early.iter().map(Change::hash).collect();
    for change in early {
        for dep in change.deps() {
            if !waiting.contains(dep) && !reply.need.contains(dep) && !holds(doc, dep) {
                reply.need.push(*dep);
            }
        }
    }
    // The encoding requires sorted hashes.
    reply.need.sort_unstable();
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ROOT;
    use automerge::transaction::Transactable;

    #[test]
    fn changes_come_after_those_they_depend_on_whatever_order_they_arrive_in() {
        let mut doc = AutoCommit::new();
        let mut changes = Vec::new();
        for i in 0..6 {
            doc.put(ROOT, "n", i).unwrap();
            doc.commit();
            changes.push(doc.get_last_local_change().unwrap());
        }
        let expected: Vec<ChangeHash> = changes.iter().map(Change::hash).collect();
        changes.reverse();
        changes.swap(1, 4);
        let ordered: Vec<ChangeHash> = in_dependency_order(changes)
            .iter()
            .map(Change::hash)
            .collect();
        assert_eq!(ordered, expected);
    }

    #[test]
    fn no_flipped_bits_in_a_change_panic_its_admission() {
        // Objects made in the change itself, so operations name their
        // object by actor index: a flipped index used to panic on expand.
        let mut doc = AutoCommit::new();
        let list = doc
            .put_object(ROOT, "messages", automerge::ObjType::List)
            .unwrap();
        let message = doc
            .insert_object(&list, 0, automerge::ObjType::Map)
            .unwrap();
        doc.put(&message, "body", "Hello").unwrap();
        doc.put(&message, "at", 1_700_000_000_000_i64).unwrap();
        doc.commit();
        let bytes = doc.get_last_local_change().unwrap().raw_bytes().to_vec();
        let mut refused = 0;
        for at in 0..bytes.len() {
            for bits in [1u8, 2, 3, 4, 8, 16, 32, 64, 128, 255] {
                let mut flipped = bytes.clone();
                flipped[at] ^= bits;
                let chunks: ChunkList = vec![flipped].into();
                refused += usize::from(admit(&chunks).is_err());
            }
        }
        assert!(refused > 0, "no flip was refused: the loop tested nothing");
    }
}
