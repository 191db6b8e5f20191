//! The store beneath several nodes, on the backend the suite runs on
//! (`BATON_TEST_BACKEND`): two stores open one database, as two nodes do.
//!
//! - No reader ever steps over a commit: a position the store hands out
//!   (the commit clock, read in one snapshot with the documents) is never
//!   followed by a commit at or below it. A naive store that takes
//!   sequences as a database sequence would fails the same check.
//! - A write from a copy another node overtook is refused as stale.
//! - A database whose schema is newer than this Baton is refused.
//! - A fetch reads stored bytes a run at a time, within its byte budget.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_server::store::{Engine, Reads, SqlStore, Store, StoreError, Write};
use baton_shared::ids::DocumentId;
use baton_tests::postgres::{self, Backend};
use sqlx::Connection;

/// The engine of a fresh database on the suite's backend.
async fn fresh(dir: &std::path::Path) -> Engine {
    match postgres::backend() {
        Backend::Sqlite => Engine::sqlite_in(dir).unwrap(),
        Backend::Postgres => Engine::from_url(&postgres::database_for(dir).await.unwrap()).unwrap(),
    }
}

fn chunk_write(id: DocumentId, after: Option<u64>) -> Write {
    Write::Document {
        id,
        kind: baton_server::store::DocumentKind::Conversation,
        chunk: vec![1, 2, 3],
        snapshot: None,
        heads: Vec::new(),
        after,
    }
}

/// A connection of its own to `engine`'s database, whichever the backend
/// (sqlx's `Any` driver), to read or write the tables directly.
async fn connect(engine: &Engine) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    let url = match engine {
        Engine::Postgres { url } => url.clone(),
        Engine::Sqlite { path } => format!("sqlite://{}", path.display()),
    };
    sqlx::AnyConnection::connect(&url).await.unwrap()
}

/// Every chunk sequence in `(after, upto]`, read straight from the table.
async fn chunk_seqs(engine: &Engine, after: u64, upto: u64) -> BTreeSet<i64> {
    let sql = "SELECT seq FROM chunks WHERE seq > $1 AND seq <= $2";
    let (after, upto) = (after as i64, upto as i64);
    let mut conn = connect(engine).await;
    let seqs: Vec<i64> = sqlx::query_scalar(sql)
        .bind(after)
        .bind(upto)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    seqs.into_iter().collect()
}

/// Writers on two stores commit for a while; a reader takes positions
/// from one store and records which commits each range held when it was
/// handed out. Returns how many ranges later held a commit they had not.
async fn ranges_that_grew(engine: &Engine, a: Arc<SqlStore>, b: Arc<SqlStore>) -> usize {
    let until = Instant::now() + Duration::from_secs(3);
    let mut writers = tokio::task::JoinSet::new();
    for store in [a.clone(), b.clone()] {
        for _ in 0..4 {
            let store = store.clone();
            writers.spawn(async move {
                while Instant::now() < until {
                    let write = chunk_write(DocumentId::random(), None);
                    let _ = store.commit(vec![write]).await;
                }
            });
        }
    }
    let mut seen = Vec::new();
    let mut position = a.clock().await.unwrap();
    while Instant::now() < until {
        let page = a.catch_up(position, 100_000).await.unwrap();
        let held = chunk_seqs(engine, position, page.seq).await;
        seen.push((position, page.seq, held));
        position = page.seq;
    }
    while writers.join_next().await.is_some() {}
    assert!(
        seen.len() > 10,
        "the reader took only {} positions",
        seen.len()
    );
    let mut grew = 0;
    for (after, upto, held) in seen {
        if chunk_seqs(engine, after, upto).await != held {
            grew += 1;
        }
    }
    grew
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_reader_ever_steps_over_a_commit() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fresh(dir.path()).await;
    let a = Arc::new(SqlStore::open(engine.clone()).await.unwrap());
    let b = Arc::new(SqlStore::open(engine.clone()).await.unwrap());
    assert_eq!(ranges_that_grew(&engine, a, b).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_taking_sequences_like_a_database_sequence_would_be_caught() {
    // The naive way only differs where writers commit side by side: on
    // PostgreSQL (SQLite has one writer at a time whatever we do).
    let dir = tempfile::tempdir().unwrap();
    let url = postgres::database_for(dir.path()).await.unwrap();
    let engine = Engine::from_url(&url).unwrap();
    let a = Arc::new(SqlStore::open_naive(engine.clone()).await.unwrap());
    let b = Arc::new(SqlStore::open_naive(engine.clone()).await.unwrap());
    let grew = ranges_that_grew(&engine, a, b).await;
    assert!(grew > 0, "the check never saw the naive store's gap");
}

#[tokio::test]
async fn a_write_from_a_copy_another_node_overtook_is_refused_as_stale() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fresh(dir.path()).await;
    let a = SqlStore::open(engine.clone()).await.unwrap();
    let b = SqlStore::open(engine).await.unwrap();
    let id = DocumentId::random();
    let first = a.commit(vec![chunk_write(id, None)]).await.unwrap().seqs[0];
    // Both nodes hold the document at `first`; B commits first.
    let second = b
        .commit(vec![chunk_write(id, Some(first))])
        .await
        .unwrap()
        .seqs[0];
    assert!(second > first);
    let late = a.commit(vec![chunk_write(id, Some(first))]).await;
    assert!(matches!(late, Err(StoreError::Stale(_))), "{late:?}");
    // Nothing of the refused write was kept: the document is at B's commit.
    assert_eq!(a.document_seq(&id).await.unwrap(), Some(second));
    assert_eq!(a.chunks_after(&id, first).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_fetch_reads_a_leading_run_of_documents_within_its_byte_budget() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqlStore::open(fresh(dir.path()).await).await.unwrap();
    let write = |id, snapshot: Option<Vec<u8>>, chunk: Vec<u8>| Write::Document {
        id,
        kind: baton_server::store::DocumentKind::Conversation,
        chunk,
        snapshot,
        heads: Vec::new(),
        after: None,
    };
    let (a, b, c) = (
        DocumentId::random(),
        DocumentId::random(),
        DocumentId::random(),
    );
    let unknown = DocumentId::random();
    // A: a 4-byte snapshot and a 2-byte chunk; B and C: 3-byte chunks.
    store
        .commit(vec![write(a, Some(vec![1; 4]), vec![2; 2])])
        .await
        .unwrap();
    store
        .commit(vec![write(b, None, vec![3; 3])])
        .await
        .unwrap();
    store
        .commit(vec![write(c, None, vec![4; 3])])
        .await
        .unwrap();
    let ids = [a, unknown, b, c];

    // 6 + 0 + 3 bytes fit in 9; C would not.
    let saved = store.saved(&ids, 9).await.unwrap();
    assert_eq!(saved.read, 3);
    let got: Vec<(DocumentId, Vec<u8>)> = saved
        .documents
        .into_iter()
        .map(|s| (s.id, s.data))
        .collect();
    assert_eq!(got, vec![(a, vec![1, 1, 1, 1, 2, 2]), (b, vec![3; 3])]);

    // A document larger than the budget is still read, alone.
    let saved = store.saved(&ids, 1).await.unwrap();
    assert_eq!((saved.read, saved.documents.len()), (1, 1));
    // The whole list when it fits; nothing asked, nothing read.
    assert_eq!(store.saved(&ids, 12).await.unwrap().read, 4);
    assert_eq!(store.saved(&[], 12).await.unwrap().read, 0);
}

#[tokio::test]
async fn a_database_whose_schema_is_newer_than_this_baton_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let engine = fresh(dir.path()).await;
    drop(SqlStore::open(engine.clone()).await.unwrap());
    // A later Baton ran here and left its migration behind.
    let newer = "INSERT INTO _sqlx_migrations \
        (version, description, success, checksum, execution_time) \
        VALUES (9999, 'from the future', TRUE, $1, 0)";
    sqlx::query(newer)
        .bind(vec![0u8; 48])
        .execute(&mut connect(&engine).await)
        .await
        .unwrap();
    let refused = SqlStore::open(engine).await.err().unwrap().to_string();
    assert!(refused.contains("newer than this Baton"), "{refused}");
}
