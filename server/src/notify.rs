//! Notifications on the server: what a client may ask of them.

/// Most notifications one request may mark read.
pub const MAX_READ_IDS: usize = 1_000;
/// Longest notification id a client may name (ours are 36 bytes).
const MAX_ID_BYTES: usize = 64;

/// Whether `ids` may be marked read in one go; the reason if not.
pub fn check_read_ids(ids: &[String]) -> Result<(), String> {
    if ids.len() > MAX_READ_IDS {
        return Err(format!("mark at most {MAX_READ_IDS} notifications at once"));
    }
    if ids.iter().any(|id| id.len() > MAX_ID_BYTES) {
        return Err(format!("a notification id is at most {MAX_ID_BYTES} bytes"));
    }
    Ok(())
}
