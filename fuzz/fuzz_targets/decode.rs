//! Any bytes a peer sends to `/sync` decode to a message or a typed error.
#![no_main]

use baton_shared::protocol::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode(data) {
        // Whatever decodes must encode and decode to the same message.
        assert_eq!(Message::decode(&message.encode()).ok(), Some(message));
    }
});
