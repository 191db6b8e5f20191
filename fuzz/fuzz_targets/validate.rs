//! Any bytes offered as a change to a conversation are refused or accepted,
//! never a panic.
#![no_main]

#[path = "../../shared/tests/fuzz_support/mod.rs"]
mod fuzz_support;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    fuzz_support::validate_bytes(data);
});
