//! What survives a reload or a night offline, in IndexedDB (through the
//! `idb` crate): every held document (saved whole: a conversation is a few
//! KB, and a full save is also a compaction), its inbox row (so a reload
//! draws the inbox before reading any document), and small metadata (last
//! catch-up sequence, what was seen, the outbox, the bell).
//! Sync states are not kept: the server starts each connection afresh, and a
//! fresh automerge sync state costs one round of heads.

use std::future::{Future, IntoFuture};

use idb::{Database, Factory, ObjectStoreParams, Query, TransactionMode, TransactionResult};
use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};

/// Version 2 added the rows store.
const VERSION: u32 = 2;
const DOCS: &str = "docs";
const ROWS: &str = "rows";
const META: &str = "meta";

/// Why this browser could not keep or read something.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("this browser offers no IndexedDB (private window?)")]
    Unavailable,
    /// A request failed, with the browser's words.
    #[error("IndexedDB could not {what}: {detail}")]
    Failed { what: &'static str, detail: String },
    #[error("IndexedDB: the write did not commit (is the disk full?)")]
    NotCommitted,
}

/// A failure to `what`, keeping the browser's words (the `idb` error holds
/// JavaScript values, which are neither `Send` nor comparable).
fn failed(what: &'static str) -> impl FnOnce(idb::Error) -> StorageError {
    move |e| StorageError::Failed {
        what,
        detail: e.to_string(),
    }
}

/// One agent's database in this browser.
pub struct Db {
    db: Database,
}

/// A document to write: its id, its bytes, and its inbox row (JSON; none
/// for the workspace).
pub type DocWrite = (String, Vec<u8>, Option<String>);

impl Db {
    /// Opens (creating on first use) the database called `name`.
    pub async fn open(name: &str) -> Result<Db, StorageError> {
        let factory = Factory::new().map_err(|_| StorageError::Unavailable)?;
        let mut request = factory
            .open(name, Some(VERSION))
            .map_err(failed("open the database"))?;
        request.on_upgrade_needed(|event| {
            let Ok(db) = idb::DatabaseEvent::database(&event) else {
                return;
            };
            // An upgrade from version 1 adds only the rows.
            let existing = db.store_names();
            for store in [DOCS, ROWS, META] {
                if !existing.iter().any(|s| s == store) {
                    let _ = db.create_object_store(store, ObjectStoreParams::new());
                }
            }
        });
        let opened = request.await.map_err(failed("open the database"))?;
        // A newer app in another tab upgrading the schema waits until every
        // open connection closes: this one steps aside.
        let closing = web_sys::IdbDatabase::from(opened);
        let mut db = Database::from(closing.clone());
        db.on_version_change(move |_| closing.close());
        Ok(Db { db })
    }

    async fn read_all(&self, store: &str) -> Result<Vec<(String, JsValue)>, StorageError> {
        let tx = self
            .db
            .transaction(&[store], TransactionMode::ReadOnly)
            .map_err(failed("read"))?;
        let store = tx.object_store(store).map_err(failed("read"))?;
        // Both requests are issued, and heard, before either answers.
        let keys = store.get_all_keys(None, None).map_err(failed("read"))?;
        let values = store.get_all(None, None).map_err(failed("read"))?;
        let (keys, values) = (keys.into_future(), values.into_future());
        let keys = keys.await.map_err(failed("read"))?;
        let values = values.await.map_err(failed("read"))?;
        Ok(keys
            .into_iter()
            .zip(values)
            .filter_map(|(key, value)| Some((key.as_string()?, value)))
            .collect())
    }

    /// Every saved document, as (id, bytes).
    pub async fn load_docs(&self) -> Result<Vec<(String, Vec<u8>)>, StorageError> {
        let pairs = self.read_all(DOCS).await?;
        Ok(pairs
            .into_iter()
            .filter_map(|(id, value)| Some((id, value.dyn_into::<Uint8Array>().ok()?.to_vec())))
            .collect())
    }

    /// The ids of the saved documents (without reading their bytes).
    pub async fn doc_ids(&self) -> Result<Vec<String>, StorageError> {
        let tx = self
            .db
            .transaction(&[DOCS], TransactionMode::ReadOnly)
            .map_err(failed("list the documents"))?;
        let store = tx
            .object_store(DOCS)
            .map_err(failed("list the documents"))?;
        let keys = store
            .get_all_keys(None, None)
            .map_err(failed("list the documents"))?
            .await
            .map_err(failed("list the documents"))?;
        Ok(keys.into_iter().filter_map(|k| k.as_string()).collect())
    }

    async fn get(&self, store: &str, key: &str) -> Result<Option<JsValue>, StorageError> {
        let tx = self
            .db
            .transaction(&[store], TransactionMode::ReadOnly)
            .map_err(failed("read"))?;
        tx.object_store(store)
            .map_err(failed("read"))?
            .get(Query::Key(JsValue::from_str(key)))
            .map_err(failed("read"))?
            .await
            .map_err(failed("read"))
    }

    /// One saved document's bytes.
    pub async fn load_doc(&self, id: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let value = self.get(DOCS, id).await?;
        Ok(value
            .and_then(|v| v.dyn_into::<Uint8Array>().ok())
            .map(|bytes| bytes.to_vec()))
    }

    /// Every saved inbox row, as (document id, row JSON).
    pub async fn load_rows(&self) -> Result<Vec<(String, String)>, StorageError> {
        let pairs = self.read_all(ROWS).await?;
        Ok(pairs
            .into_iter()
            .filter_map(|(id, value)| Some((id, value.as_string()?)))
            .collect())
    }

    pub async fn get_meta(&self, key: &str) -> Result<Option<String>, StorageError> {
        Ok(self.get(META, key).await?.and_then(|v| v.as_string()))
    }

    /// Writes documents with their inbox rows and metadata in one
    /// transaction: all of it, or none, so a row never outlives its bytes
    /// and the outbox never disagrees with the documents.
    /// The transaction is issued before this returns: transactions commit in
    /// the order they are issued, so the latest snapshot always lands last.
    /// Await the answer to know it is durable.
    pub fn write(
        &self,
        docs: &[DocWrite],
        meta: &[(&str, String)],
    ) -> impl Future<Output = Result<(), StorageError>> + use<> {
        let issued = self.issue(docs, meta);
        async move { committed(issued?.await) }
    }

    fn issue(
        &self,
        docs: &[DocWrite],
        meta: &[(&str, String)],
    ) -> Result<idb::TransactionFuture, StorageError> {
        let tx = self
            .db
            .transaction(&[DOCS, ROWS, META], TransactionMode::ReadWrite)
            .map_err(failed("start a write"))?;
        let store = |name| tx.object_store(name).map_err(failed("start a write"));
        let (doc_store, row_store, meta_store) = (store(DOCS)?, store(ROWS)?, store(META)?);
        // Each put is issued now; the transaction answers for all of them.
        let put = |store: &idb::ObjectStore, value: &JsValue, key: &str| {
            store
                .put(value, Some(&JsValue::from_str(key)))
                .map(drop)
                .map_err(failed("write"))
        };
        for (id, bytes, row) in docs {
            put(&doc_store, &Uint8Array::from(bytes.as_slice()).into(), id)?;
            if let Some(row) = row {
                put(&row_store, &JsValue::from_str(row), id)?;
            }
        }
        for (key, value) in meta {
            put(&meta_store, &JsValue::from_str(value), key)?;
        }
        Ok(tx.into_future())
    }

    pub async fn delete_doc(&self, id: &str) -> Result<(), StorageError> {
        let tx = self
            .db
            .transaction(&[DOCS, ROWS], TransactionMode::ReadWrite)
            .map_err(failed("delete"))?;
        for name in [DOCS, ROWS] {
            tx.object_store(name)
                .map_err(failed("delete"))?
                .delete(Query::Key(JsValue::from_str(id)))
                .map_err(failed("delete"))?;
        }
        committed(tx.await)
    }
}

fn committed(outcome: Result<TransactionResult, idb::Error>) -> Result<(), StorageError> {
    match outcome {
        Ok(TransactionResult::Committed) => Ok(()),
        Ok(TransactionResult::Aborted) | Err(_) => Err(StorageError::NotCommitted),
    }
}

/// Deletes an agent's database (on logout, so the next person on this
/// browser does not inherit the conversations).
pub fn forget(name: &str) {
    if let Ok(factory) = Factory::new() {
        let _ = factory.delete(name);
    }
}

/// Small values in localStorage: what the app needs before IndexedDB opens.
pub mod local {
    pub fn get(key: &str) -> Option<String> {
        web_sys::window()?
            .local_storage()
            .ok()??
            .get_item(key)
            .ok()?
    }

    pub fn set(key: &str, value: &str) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(key, value);
        }
    }

    pub fn remove(key: &str) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.remove_item(key);
        }
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    async fn documents_rows_and_metadata_survive_a_reopen() {
        let name = format!("baton-test-{}", js_sys::Math::random());
        let db = Db::open(&name).await.expect("open");
        db.write(
            &[
                ("a".into(), vec![1, 2, 3], Some("{\"row\":\"a\"}".into())),
                ("b".into(), vec![4], None),
            ],
            &[("seq", "42".into())],
        )
        .await
        .expect("save");
        drop(db);
        let db = Db::open(&name).await.expect("reopen");
        let mut docs = db.load_docs().await.expect("load");
        docs.sort();
        assert_eq!(docs, [("a".into(), vec![1, 2, 3]), ("b".into(), vec![4])]);
        let rows = db.load_rows().await.expect("rows");
        assert_eq!(rows, [("a".into(), "{\"row\":\"a\"}".into())]);
        assert_eq!(db.get_meta("seq").await.expect("get"), Some("42".into()));
        assert_eq!(db.load_doc("b").await.expect("get"), Some(vec![4]));
        assert_eq!(db.doc_ids().await.expect("ids").len(), 2);
        db.delete_doc("a").await.expect("delete");
        assert_eq!(db.load_docs().await.expect("load").len(), 1);
        assert!(db.load_rows().await.expect("rows").is_empty());
        forget(&name);
    }

    #[wasm_bindgen_test]
    async fn writes_commit_in_the_order_they_are_issued() {
        let name = format!("baton-test-{}", js_sys::Math::random());
        let db = Db::open(&name).await.expect("open");
        let first = db.write(&[], &[("outbox", "older".into())]);
        let second = db.write(&[], &[("outbox", "newer".into())]);
        // Awaited in the wrong order, the later issue still lands last.
        second.await.expect("second");
        first.await.expect("first");
        assert_eq!(
            db.get_meta("outbox").await.expect("get"),
            Some("newer".into())
        );
        forget(&name);
    }
}
