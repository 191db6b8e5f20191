//! What Baton's app and server agree on: identifiers, the conversation and
//! workspace documents, the operations agents perform, the assignment and
//! notification rules, validation of incoming changes, and the wire protocol.
//!
//! Pure: no I/O, no framework; compiles for native and `wasm32-unknown-unknown`.

#![warn(missing_docs)]

pub mod assignment;
pub mod clock;
pub mod conversation;
mod doc_io;
pub mod docset;
mod error;
mod hours;
pub mod ids;
pub mod limits;
pub mod model;
pub mod notify;
pub mod operations;
pub mod protocol;
pub mod rules;
pub mod summary;
pub mod validate;
pub mod workflow;
pub mod workspace;

pub use error::ReadError;
