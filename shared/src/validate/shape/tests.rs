//! Change chunks read without expanding them: real and forged changes, op
//! bombs, what is not a change, and garbage.

use super::*;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, Change, ROOT};

fn last_change(doc: &mut AutoCommit) -> Change {
    doc.get_last_local_change().unwrap()
}

#[test]
fn a_change_automerge_reads_under_another_hash_is_refused() {
    let mut doc = AutoCommit::new();
    for i in 0..20 {
        doc.put(ROOT, format!("k{i}"), "value value value").unwrap();
    }
    let honest = last_change(&mut doc);
    assert!(canonical(&honest).is_ok());
    let bytes = honest.raw_bytes().to_vec();
    // Some single flipped bit still parses, as a change that re-encodes
    // differently; every such one is refused.
    let mut refused = 0;
    for at in 0..bytes.len() {
        let mut flipped = bytes.clone();
        flipped[at] ^= 1;
        let Ok(change) = Change::try_from(&flipped[..]) else {
            continue;
        };
        if Change::from(change.decode()).hash() != change.hash() {
            assert!(canonical(&change).is_err(), "flip at {at} accepted");
            refused += 1;
        }
    }
    assert!(refused > 0, "no flip parsed under another hash");
}

#[test]
fn a_real_change_reads_as_automerge_reads_it() {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "subject", "Refund").unwrap();
    doc.commit();
    let list = doc
        .put_object(ROOT, "messages", automerge::ObjType::List)
        .unwrap();
    for i in 0..5 {
        doc.insert(&list, i, format!("hello {i}")).unwrap();
    }
    doc.put(ROOT, "subject", "Refund, please").unwrap();
    doc.commit();
    let change = last_change(&mut doc);
    let shape = change_shape(change.raw_bytes()).unwrap();
    assert_eq!(shape.deps, change.deps());
    assert_eq!(shape.actor, change.actor_id().to_bytes());
    assert_eq!(shape.seq, change.seq());
    assert_eq!(shape.start_op, change.start_op().get());
    assert_eq!(shape.ops, change.len());
    assert_eq!(shape.bytes, change.raw_bytes().len());
}

#[test]
fn a_million_operations_in_a_few_bytes_are_counted_not_expanded() {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "status", "open").unwrap();
    doc.commit();
    let mut expanded = last_change(&mut doc).decode();
    // Puts of null: every column is one run, the value column empty.
    let mut op = expanded.operations[0].clone();
    op.action = automerge::legacy::OpType::Put(automerge::ScalarValue::Null);
    expanded.operations = vec![op; 1_000_000];
    let bomb = Change::from(expanded);
    assert!(bomb.raw_bytes().len() < 2_000, "{}", bomb.raw_bytes().len());
    let started = std::time::Instant::now();
    let refused = change_shape(bomb.raw_bytes()).unwrap_err();
    assert!(matches!(refused, Violation::TooLarge { .. }), "{refused:?}");
    assert!(started.elapsed() < std::time::Duration::from_millis(50));
}

#[test]
fn documents_compressed_chunks_and_trailing_bytes_are_not_changes() {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "subject", "x".repeat(2_000)).unwrap();
    doc.commit();
    assert!(change_shape(&doc.save()).is_err(), "a whole document");
    let mut change = last_change(&mut doc);
    let compressed = change.bytes().into_owned();
    assert_ne!(compressed, change.raw_bytes(), "compressible");
    assert!(change_shape(&compressed).is_err(), "a compressed change");
    let mut trailing = change.raw_bytes().to_vec();
    trailing.push(0);
    assert!(change_shape(&trailing).is_err());
    for cut in [0, 3, 9, change.raw_bytes().len() - 1] {
        assert!(
            change_shape(&change.raw_bytes()[..cut]).is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn changes_joined_in_one_chunk_come_apart() {
    let mut doc = AutoCommit::new();
    let mut joined = Vec::new();
    for i in 0..3 {
        doc.put(ROOT, "n", i).unwrap();
        doc.commit();
        joined.extend(last_change(&mut doc).raw_bytes());
    }
    let parts = split_changes(&joined).unwrap();
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| change_shape(p).is_ok()));
    assert!(split_changes(&joined[..joined.len() - 1]).is_err());
}

#[test]
fn garbage_never_panics() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in 0..2_000usize {
        let mut bytes = MAGIC.to_vec();
        bytes.extend([0, 0, 0, 0, CHANGE_CHUNK]);
        for _ in 0..len % 97 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.push(seed as u8);
        }
        let _ = change_shape(&bytes);
    }
}
