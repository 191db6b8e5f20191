//! Several `baton serve` nodes on one database: PostgreSQL with
//! `BATON_TEST_BACKEND=postgres`, else several processes on one SQLite file
//! (the command line beside a server is the everyday case of that).
//!
//! - `crossing`: what one node's agents do reaches the agents of another,
//!   live and by catch-up, with every notification once.
//! - `races`: what two nodes decide at the same moment settles once
//!   (claims, the last admin, two nodes seeding one empty database).
//! - `workflows`: runs happen once across nodes; one node sweeps, and
//!   another takes over when it dies.
//! - `failures`: a node killed under load loses nothing acknowledged, and
//!   neither does a PostgreSQL restart.
//!
//! Waits are conditions with deadlines; latencies are printed, and only
//! generous bounds asserted (timing on a loaded 2-core machine is noisy).
#![allow(clippy::unwrap_used)] // tests fail loudly by design

mod crossing;
mod failures;
mod nodes;
mod races;
mod workflows;
