//! A `sync` message encoded in parts, so that one encoding of a document
//! state's message serves every peer it goes to: the parts before and
//! after the recipient's peer id are made once, and a frame is their
//! concatenation. The bytes are exactly [`Message::encode`]'s for the same
//! `Message::Sync`, field order included.
//!
//! [`Message::encode`]: super::Message::encode

use crate::ids::DocumentId;

/// CBOR major types used here.
const MAP: u8 = 5 << 5;
const TEXT: u8 = 3 << 5;
const BYTES: u8 = 2 << 5;

/// Appends a CBOR head of `major` type and `length`, shortest form (as
/// ciborium writes it).
fn head(out: &mut Vec<u8>, major: u8, length: usize) {
    let length = length as u64;
    match length {
        0..=23 => out.push(major | length as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, length as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(length as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend_from_slice(&(length as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend_from_slice(&length.to_be_bytes());
        }
    }
}

fn text(out: &mut Vec<u8>, value: &str) {
    head(out, TEXT, value.len());
    out.extend_from_slice(value.as_bytes());
}

/// Everything up to the recipient's peer id, for a recipient `target`:
/// made once per connection.
pub fn sync_lead(sender: &str, target: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(40 + sender.len() + target.len());
    head(&mut out, MAP, 5);
    text(&mut out, "type");
    text(&mut out, "sync");
    text(&mut out, "senderId");
    text(&mut out, sender);
    text(&mut out, "targetId");
    text(&mut out, target);
    out
}

/// Everything after the recipient's peer id: the document and the sync
/// message's bytes. Made once per document state.
pub fn sync_tail(document: &DocumentId, data: &[u8]) -> Vec<u8> {
    let id = document.to_string();
    let mut out = Vec::with_capacity(32 + id.len() + data.len());
    text(&mut out, "documentId");
    text(&mut out, &id);
    text(&mut out, "data");
    head(&mut out, BYTES, data.len());
    out.extend_from_slice(data);
    out
}

/// One frame: a connection's lead and a state's tail.
pub fn sync_frame(lead: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(lead.len() + tail.len());
    out.extend_from_slice(lead);
    out.extend_from_slice(tail);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Message;

    #[test]
    fn a_frame_in_parts_is_the_message_encoded_whole() {
        let document = DocumentId::random();
        let targets = ["p", "bench-12-abcdef01", &"t".repeat(30), &"x".repeat(300)];
        let sizes = [0, 1, 23, 24, 255, 256, 65_535, 65_536, 70_000];
        for target in targets {
            let lead = sync_lead("baton-server", target);
            for size in sizes {
                let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
                let whole = Message::Sync {
                    sender_id: "baton-server".to_owned(),
                    target_id: target.to_owned(),
                    document_id: document,
                    data: data.clone(),
                }
                .encode();
                let parts = sync_frame(&lead, &sync_tail(&document, &data));
                assert_eq!(parts, whole, "target {} bytes, data {size}", target.len());
                assert!(matches!(
                    Message::decode(&parts),
                    Ok(Message::Sync { target_id, data: d, .. }) if target_id == target && d == data
                ));
            }
        }
    }
}
