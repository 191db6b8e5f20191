//! Every size, count and time limit Baton enforces, in one table. The app
//! checks them to refuse early with a clear message; the server refuses
//! whatever a client should never have sent. `shared/tests/limits.rs` holds
//! one test per limit, each going one past it.

// ---- Text -------------------------------------------------------------

/// Largest message or note body, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest subject, customer name or email, agent or channel name, in bytes.
pub const MAX_FIELD_BYTES: usize = 512;
/// Largest key of a map in a document (field names, ids used as keys).
pub const MAX_KEY_BYTES: usize = 64;
/// Largest internal note a workflow adds, in bytes.
pub const MAX_WORKFLOW_NOTE_BYTES: usize = 8 * 1024;

// ---- One conversation -------------------------------------------------

/// Most messages and notes one conversation may hold.
pub const MAX_MESSAGES: usize = 5_000;
/// Most activity entries one conversation may hold.
pub const MAX_ACTIVITY: usize = 20_000;
/// Most competing assignment values one conversation may hold at once.
pub const MAX_ASSIGNMENTS: usize = 64;
/// Largest total of message bodies in one conversation, in bytes.
pub const MAX_CONVERSATION_BYTES: usize = 8 * 1024 * 1024;

// ---- One workspace ----------------------------------------------------

/// Most agents, or channels, one workspace may hold.
pub const MAX_WORKSPACE_ENTRIES: usize = 10_000;
/// Most workflows one workspace may hold.
pub const MAX_WORKFLOWS: usize = 200;
/// Most conditions, and most steps, in one workflow.
pub const MAX_WORKFLOW_PARTS: usize = 20;
/// Most channels, agents or domains one condition or step names.
pub const MAX_WORKFLOW_LIST: usize = 200;
/// Longest wait an "unassigned for" trigger may name: 30 days, in minutes.
pub const MAX_UNASSIGNED_MINUTES: u32 = 30 * 24 * 60;

// ---- One change, as a client sends it ----------------------------------

/// Largest single change, in bytes.
pub const MAX_CHANGE_BYTES: usize = 256 * 1024;
/// Most operations in one change. An honest change here is tens of
/// operations (a reply that claims is about 25); an admin saving the
/// largest workflow writes a few thousand.
pub const MAX_CHANGE_OPS: usize = 20_000;
/// Most values in any one column of a change (operations, and the
/// predecessors they name): bounds the work of reading a change before
/// anything else is known about it.
pub const MAX_CHANGE_COLUMN_VALUES: usize = 4 * MAX_CHANGE_OPS;
/// Most dependencies one change may name (the heads its author had).
pub const MAX_CHANGE_DEPS: usize = 256;
/// Largest actor id, in bytes (automerge's own are 16).
pub const MAX_ACTOR_BYTES: usize = 64;
/// Most actors one change may refer to besides its own.
pub const MAX_CHANGE_ACTORS: usize = 256;
/// Largest commit message of one change, in bytes (Baton's are one word).
pub const MAX_CHANGE_MESSAGE_BYTES: usize = 256;
/// Most changes one sync message may carry.
pub const MAX_CHANGES_PER_MESSAGE: usize = 10_000;

// ---- One document, stored ---------------------------------------------

/// Most operations a conversation document may hold in all. A conversation
/// at its message and activity limits holds about 300,000.
pub const MAX_CONVERSATION_OPS: usize = 1_000_000;
/// Most operations the workspace document may hold in all.
pub const MAX_WORKSPACE_OPS: usize = 5_000_000;
/// Largest stored document (its changes, as stored), in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024 * 1024;

// ---- Time -------------------------------------------------------------

/// How far ahead of the server's clock a change's `at` may be, and how late
/// a change made while its author was online may arrive.
pub const MAX_CLOCK_SKEW_MS: i64 = 60_000;
/// How long after a connection opened a timestamp must be to count as
/// made while online (a client clock running fast).
pub const ONLINE_START_MARGIN_MS: i64 = 10_000;
/// How long before a connection ended a timestamp must be to count as made
/// while online: a socket that died silently looks alive until the next
/// heartbeat, a crashed server's connections until its last record.
pub const ONLINE_END_MARGIN_MS: i64 = 60_000;
/// How late work made offline may arrive after its author reconnected.
pub const OFFLINE_REPLAY_MS: i64 = 5 * 60_000;
