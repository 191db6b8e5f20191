//! Documents fetched whole: the leading run of a fetch's ids within a byte
//! budget, their stored bytes (snapshot, then chunks) read without loading
//! them, all in one snapshot.

use std::collections::HashMap;

use baton_shared::ids::DocumentId;
use sqlx::{Any, Transaction};

use super::heads;
use crate::store::{Result, Saved, SavedBytes};

/// The stored bytes of the leading run of `ids` within `budget` (at least
/// the first), read in `tx`, which it commits.
pub(super) async fn read(
    mut tx: Transaction<'static, Any>,
    ids: &[DocumentId],
    budget: usize,
) -> Result<Saved> {
    let keys: Vec<String> = ids.iter().map(ToString::to_string).collect();
    let sizes = stored_sizes(&mut tx, &keys).await?;
    // The leading run within the budget; an absent document costs nothing.
    let mut read = 0;
    let mut bytes = 0;
    for key in &keys {
        let size = sizes.get(key).copied().unwrap_or_default();
        if read > 0 && bytes + size > budget {
            break;
        }
        bytes += size;
        read += 1;
    }
    let keys = &keys[..read];
    let list = placeholders(read);
    let documents = format!("SELECT id, snapshot, heads FROM documents WHERE id IN ({list})");
    let chunks = format!(
        "SELECT document, data FROM chunks WHERE document IN ({list}) ORDER BY document, seq"
    );
    let mut query = sqlx::query_as::<_, (String, Option<Vec<u8>>, String)>(&documents);
    for key in keys {
        query = query.bind(key);
    }
    let found = query.fetch_all(&mut *tx).await?;
    let mut query = sqlx::query_as::<_, (String, Vec<u8>)>(&chunks);
    for key in keys {
        query = query.bind(key);
    }
    let chunk_rows = query.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let mut saved = HashMap::with_capacity(found.len());
    for (id, snapshot, text) in found {
        saved.insert(id, (heads(&text), snapshot.unwrap_or_default()));
    }
    for (id, data) in chunk_rows {
        if let Some((_, bytes)) = saved.get_mut(&id) {
            bytes.extend_from_slice(&data);
        }
    }
    // In the order asked.
    let documents = ids
        .iter()
        .zip(keys)
        .filter_map(|(id, key)| {
            let (heads, data) = saved.remove(key)?;
            Some(SavedBytes {
                id: *id,
                heads,
                data,
            })
        })
        .collect();
    Ok(Saved { documents, read })
}

/// `$1,$2,…,$n`, for an `IN` list of `n` values.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The stored bytes (snapshot and chunks) of each of `keys` that exists.
async fn stored_sizes(
    tx: &mut Transaction<'static, Any>,
    keys: &[String],
) -> Result<HashMap<String, usize>> {
    let list = placeholders(keys.len());
    let documents = format!(
        "SELECT id, CAST(coalesce(length(snapshot), 0) AS BIGINT) FROM documents \
         WHERE id IN ({list})"
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&documents);
    for key in keys {
        query = query.bind(key);
    }
    let mut sizes: HashMap<String, usize> = query
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(id, bytes)| (id, usize::try_from(bytes).unwrap_or_default()))
        .collect();
    let chunks = format!(
        "SELECT document, CAST(coalesce(sum(length(data)), 0) AS BIGINT) FROM chunks \
         WHERE document IN ({list}) GROUP BY document"
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&chunks);
    for key in keys {
        query = query.bind(key);
    }
    for (id, bytes) in query.fetch_all(&mut **tx).await? {
        if let Some(size) = sizes.get_mut(&id) {
            *size += usize::try_from(bytes).unwrap_or_default();
        }
    }
    Ok(sizes)
}
