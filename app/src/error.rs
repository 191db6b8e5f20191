//! What can go wrong in the app, said so an agent can read it.

use baton_shared::operations::OpError;

use crate::api::ApiError;
use crate::storage::StorageError;

/// Why something the agent asked for did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// Nobody is signed in (or the session ended meanwhile).
    #[error("You are signed out.")]
    SignedOut,
    /// The conversation's document is not on this device yet.
    #[error("This conversation is still loading.")]
    StillLoading,
    /// The action breaks one of the rules, in `shared`'s words (the same
    /// the server would refuse it with).
    #[error(transparent)]
    Rule(#[from] OpError),
    /// Sign-in with an email and password that do not match.
    #[error("That email and password do not match.")]
    WrongPassword,
    /// An HTTP call failed: offline, signed out, or refused with a reason.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// IndexedDB could not keep or read something.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The browser would not open the socket.
    #[error("The connection to {url} could not be opened: {detail}")]
    Socket { url: String, detail: String },
}
