//! Baton's load generator and measurements: many lightweight sync clients in
//! one process, speaking automerge-repo's websocket protocol v1, driving
//! either Baton or a stock automerge-repo sync server (the peer) with the
//! same load. `cargo xtask bench` runs it and writes `BENCHMARKS.md`.

pub mod client;
pub mod cpu;
pub mod fragment;
pub mod load;
pub mod measure;
pub mod replica;
pub mod seed;
pub mod stats;
pub mod target;
