//! The views. They read the state services (`state::use_…()`) and call
//! their methods; none of them touches the socket, IndexedDB or a document.

pub mod admin;
pub mod agent_picker;
pub mod avatar;
pub mod bulk_bar;
pub mod composer;
pub mod conversation;
pub mod inbox;
pub mod keyboard;
pub mod login;
pub mod notifications;
pub mod settings;
pub mod shell;
pub mod sidebar;
pub mod toasts;
pub mod ui;
pub mod workflow_editor;
pub mod workflows;
