//! What survives a reload or a night offline, in IndexedDB: every held
//! document (saved whole: a conversation is a few KB, and a full save is also
//! a compaction), its inbox row (so a reload draws the inbox before reading
//! any document), and small metadata (last catch-up sequence, what was seen,
//! the outbox).
//! Sync states are not kept: the server starts each connection afresh, and a
//! fresh automerge sync state costs one round of heads.

use futures_channel::oneshot;
use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

/// Version 2 added the rows store.
const VERSION: u32 = 2;
const DOCS: &str = "docs";
const ROWS: &str = "rows";
const META: &str = "meta";

/// One agent's database in this browser.
pub struct Db {
    db: IdbDatabase,
}

fn js_error(context: &str, value: JsValue) -> String {
    let detail = value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"));
    format!("{context}: {detail}")
}

/// Waits for a request's `success` (its result) or `error`.
async fn finished(request: &IdbRequest) -> Result<JsValue, String> {
    let (send, receive) = oneshot::channel::<Result<(), ()>>();
    let send = std::rc::Rc::new(std::cell::RefCell::new(Some(send)));
    let ok_send = send.clone();
    let on_success = Closure::<dyn FnMut()>::new(move || {
        if let Some(s) = ok_send.borrow_mut().take() {
            let _ = s.send(Ok(()));
        }
    });
    let on_error = Closure::<dyn FnMut()>::new(move || {
        if let Some(s) = send.borrow_mut().take() {
            let _ = s.send(Err(()));
        }
    });
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let outcome = receive.await;
    request.set_onsuccess(None);
    request.set_onerror(None);
    match outcome {
        Ok(Ok(())) => request.result().map_err(|e| js_error("IndexedDB", e)),
        _ => {
            Err("IndexedDB: the request failed (is the disk full, or storage blocked?)".to_owned())
        }
    }
}

/// Waits for a write transaction to commit.
async fn committed(tx: &IdbTransaction) -> Result<(), String> {
    let (send, receive) = oneshot::channel::<bool>();
    let send = std::rc::Rc::new(std::cell::RefCell::new(Some(send)));
    let ok_send = send.clone();
    let on_complete = Closure::<dyn FnMut()>::new(move || {
        if let Some(s) = ok_send.borrow_mut().take() {
            let _ = s.send(true);
        }
    });
    let on_error = Closure::<dyn FnMut()>::new(move || {
        if let Some(s) = send.borrow_mut().take() {
            let _ = s.send(false);
        }
    });
    tx.set_oncomplete(Some(on_complete.as_ref().unchecked_ref()));
    tx.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    tx.set_onabort(Some(on_error.as_ref().unchecked_ref()));
    let ok = receive.await.unwrap_or(false);
    tx.set_oncomplete(None);
    tx.set_onerror(None);
    tx.set_onabort(None);
    if ok {
        Ok(())
    } else {
        Err("IndexedDB: the write did not commit (is the disk full?)".to_owned())
    }
}

impl Db {
    /// Opens (creating on first use) the database called `name`.
    pub async fn open(name: &str) -> Result<Db, String> {
        let factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .ok_or("this browser offers no IndexedDB (private window?)")?;
        let request: IdbOpenDbRequest = factory
            .open_with_u32(name, VERSION)
            .map_err(|e| js_error("IndexedDB open", e))?;
        let upgrading = request.clone();
        let on_upgrade = Closure::<dyn FnMut()>::new(move || {
            if let Ok(db) = upgrading.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                // Creating a store that exists fails harmlessly: an upgrade
                // from version 1 adds only the rows.
                for store in [DOCS, ROWS, META] {
                    let _ = db.create_object_store(store);
                }
            }
        });
        request.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let result = finished(&request).await;
        request.set_onupgradeneeded(None);
        let db = result?
            .dyn_into::<IdbDatabase>()
            .map_err(|e| js_error("IndexedDB open", e))?;
        // A newer app in another tab upgrading the schema waits until every
        // open connection closes: this one steps aside.
        let closing = db.clone();
        let on_version_change = Closure::<dyn FnMut()>::new(move || closing.close());
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        on_version_change.forget();
        Ok(Db { db })
    }

    fn store(
        &self,
        name: &str,
        mode: IdbTransactionMode,
    ) -> Result<(IdbTransaction, web_sys::IdbObjectStore), String> {
        let tx = self
            .db
            .transaction_with_str_and_mode(name, mode)
            .map_err(|e| js_error("IndexedDB transaction", e))?;
        let store = tx
            .object_store(name)
            .map_err(|e| js_error("IndexedDB store", e))?;
        Ok((tx, store))
    }

    /// Every saved document, as (id, bytes).
    pub async fn load_docs(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let pairs = self.load_all(DOCS).await?;
        Ok(pairs
            .into_iter()
            .filter_map(|(id, value)| Some((id, value.dyn_into::<Uint8Array>().ok()?.to_vec())))
            .collect())
    }

    /// The ids of the saved documents (without reading their bytes).
    pub async fn doc_ids(&self) -> Result<Vec<String>, String> {
        let (_tx, store) = self.store(DOCS, IdbTransactionMode::Readonly)?;
        let keys = finished(&store.get_all_keys().map_err(|e| js_error("IndexedDB", e))?).await?;
        Ok(Array::from(&keys)
            .iter()
            .filter_map(|k| k.as_string())
            .collect())
    }

    /// One saved document's bytes.
    pub async fn load_doc(&self, id: &str) -> Result<Option<Vec<u8>>, String> {
        let (_tx, store) = self.store(DOCS, IdbTransactionMode::Readonly)?;
        let request = store
            .get(&JsValue::from_str(id))
            .map_err(|e| js_error("IndexedDB get", e))?;
        Ok(finished(&request)
            .await?
            .dyn_into::<Uint8Array>()
            .ok()
            .map(|bytes| bytes.to_vec()))
    }

    /// Every saved inbox row, as (document id, row JSON).
    pub async fn load_rows(&self) -> Result<Vec<(String, String)>, String> {
        let pairs = self.load_all(ROWS).await?;
        Ok(pairs
            .into_iter()
            .filter_map(|(id, value)| Some((id, value.as_string()?)))
            .collect())
    }

    async fn load_all(&self, name: &str) -> Result<Vec<(String, JsValue)>, String> {
        let (_tx, store) = self.store(name, IdbTransactionMode::Readonly)?;
        let keys = finished(&store.get_all_keys().map_err(|e| js_error("IndexedDB", e))?).await?;
        let values = finished(&store.get_all().map_err(|e| js_error("IndexedDB", e))?).await?;
        let keys = Array::from(&keys);
        let values = Array::from(&values);
        Ok(keys
            .iter()
            .zip(values.iter())
            .filter_map(|(key, value)| Some((key.as_string()?, value)))
            .collect())
    }

    /// Writes documents with their inbox rows (none for the workspace) and
    /// metadata in one transaction: all of it, or none, so a row never
    /// outlives its bytes and the outbox never disagrees with the documents.
    /// The transaction is issued before this returns: transactions commit in
    /// the order they are issued, so the latest snapshot always lands last.
    /// Await the answer to know it is durable.
    pub fn write(
        &self,
        docs: &[(String, Vec<u8>, Option<String>)],
        meta: &[(&str, String)],
    ) -> impl std::future::Future<Output = Result<(), String>> + use<> {
        let issued = self.issue(docs, meta);
        async move { committed(&issued?).await }
    }

    fn issue(
        &self,
        docs: &[(String, Vec<u8>, Option<String>)],
        meta: &[(&str, String)],
    ) -> Result<IdbTransaction, String> {
        let names = Array::of3(
            &JsValue::from_str(DOCS),
            &JsValue::from_str(ROWS),
            &JsValue::from_str(META),
        );
        let tx = self
            .db
            .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)
            .map_err(|e| js_error("IndexedDB transaction", e))?;
        let store = |name| {
            tx.object_store(name)
                .map_err(|e| js_error("IndexedDB store", e))
        };
        let (doc_store, row_store, meta_store) = (store(DOCS)?, store(ROWS)?, store(META)?);
        let put = |store: &web_sys::IdbObjectStore, value: &JsValue, key: &str| {
            store
                .put_with_key(value, &JsValue::from_str(key))
                .map(|_| ())
                .map_err(|e| js_error("IndexedDB put", e))
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
        Ok(tx)
    }

    pub async fn delete_doc(&self, id: &str) -> Result<(), String> {
        let names = Array::of2(&JsValue::from_str(DOCS), &JsValue::from_str(ROWS));
        let tx = self
            .db
            .transaction_with_str_sequence_and_mode(&names, IdbTransactionMode::Readwrite)
            .map_err(|e| js_error("IndexedDB transaction", e))?;
        for name in [DOCS, ROWS] {
            tx.object_store(name)
                .map_err(|e| js_error("IndexedDB store", e))?
                .delete(&JsValue::from_str(id))
                .map_err(|e| js_error("IndexedDB delete", e))?;
        }
        committed(&tx).await
    }

    pub async fn get_meta(&self, key: &str) -> Result<Option<String>, String> {
        let (_tx, store) = self.store(META, IdbTransactionMode::Readonly)?;
        let request = store
            .get(&JsValue::from_str(key))
            .map_err(|e| js_error("IndexedDB get", e))?;
        Ok(finished(&request).await?.as_string())
    }
}

/// Deletes an agent's database (on logout, so the next person on this
/// browser does not inherit the conversations).
pub fn forget(name: &str) {
    if let Some(factory) = web_sys::window().and_then(|w| w.indexed_db().ok().flatten()) {
        let _ = factory.delete_database(name);
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
        db.delete_doc("a").await.expect("delete");
        assert_eq!(db.load_docs().await.expect("load").len(), 1);
        assert!(db.load_rows().await.expect("rows").is_empty());
        forget(&name);
    }
}
