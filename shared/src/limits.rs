//! Size limits shared by the app (to refuse early, with a clear message) and
//! the server (to refuse what a client should never have sent).

/// Largest message or note body, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Largest subject, customer name or email, agent or channel name, in bytes.
pub const MAX_FIELD_BYTES: usize = 512;
/// Most messages and notes one conversation may hold.
pub const MAX_MESSAGES: usize = 5_000;
/// Most activity entries one conversation may hold.
pub const MAX_ACTIVITY: usize = 20_000;
/// Most competing assignment values one conversation may hold at once.
pub const MAX_ASSIGNMENTS: usize = 64;
/// Largest single change, in bytes (a change is one operation).
pub const MAX_CHANGE_BYTES: usize = 256 * 1024;
/// Largest total of message bodies in one conversation, in bytes.
pub const MAX_CONVERSATION_BYTES: usize = 8 * 1024 * 1024;
/// Most agents, channels or subscriptions one workspace may hold.
pub const MAX_WORKSPACE_ENTRIES: usize = 10_000;
/// How far ahead of the server's clock a change's `at` may be.
pub const MAX_CLOCK_SKEW_MS: i64 = 60_000;
/// Most workflows one workspace may hold.
pub const MAX_WORKFLOWS: usize = 200;
/// Most conditions, and most steps, in one workflow.
pub const MAX_WORKFLOW_PARTS: usize = 20;
/// Largest internal note a workflow adds, in bytes.
pub const MAX_WORKFLOW_NOTE_BYTES: usize = 8 * 1024;
/// Longest wait an "unassigned for" trigger may name: 30 days, in minutes.
pub const MAX_UNASSIGNED_MINUTES: u32 = 30 * 24 * 60;
