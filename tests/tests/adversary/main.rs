//! The change boundary and the HTTP API tried as an attacker would, over
//! the real wire against the real server: one module per finding of the
//! threat review (F1–F13), each test asserting the safe behaviour.
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod activity;
mod backdate;
mod batch;
mod bloat;
mod counter;
mod failed_commit;
mod login;
mod op_bomb;
mod origin;
mod replace;
mod scene;
mod sessions;
mod sockets;
mod squatting;
