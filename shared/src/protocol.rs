//! The `/sync` wire protocol: automerge-repo's websocket protocol v1 (CBOR
//! maps with a `type` field) plus Baton's own `baton/` messages, sent only to
//! peers that announced them in `join`.
//!
//! Decoding never panics on untrusted bytes: anything that is not one of
//! these messages is a [`ProtocolError`].

mod codec;
mod scan;
mod sync_frame;

pub use codec::{ProtocolError, decode_presence, encode_presence};

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ConversationId, DocumentId};
use crate::model::Millis;
use crate::notify::NoticeKind;

pub use sync_frame::{sync_frame, sync_lead, sync_tail};

/// The only automerge-repo protocol version there is.
pub const PROTOCOL_V1: &str = "1";
/// Baton's extension version, announced in `join` and `peer`: 1 is the
/// `baton/` messages, 2 adds `baton/fetch` (documents whole, see
/// [`Message::BatonFetch`]).
pub const BATON_VERSION: u32 = 2;
/// The first extension version that answers `baton/fetch`.
pub const BATON_FETCH: u32 = 2;
/// Most documents one `baton/fetch` may name: one catch-up page.
pub const MAX_FETCH_DOCUMENTS: usize = 2_000;
/// Most CBOR items a frame may hold: a catch-up page of a few thousand
/// documents is far below it.
pub const MAX_FRAME_ITEMS: usize = 100_000;
/// Most CBOR items a frame from a peer may hold: its largest message (marking
/// a thousand notifications read) has about a thousand.
pub const MAX_PEER_FRAME_ITEMS: usize = 4_096;

/// What a peer says about itself in `join` and `peer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerMetadata {
    /// The id of the peer's storage, if it keeps documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<String>,
    /// Whether the peer forgets everything when it goes (a browser tab without storage).
    #[serde(default)]
    pub is_ephemeral: bool,
}

/// Heads of a document as one peer's storage holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteHeads {
    /// Hex-encoded change hashes.
    pub heads: Vec<String>,
    /// When that storage saw them.
    pub timestamp: Millis,
}

/// One document that changed since a catch-up sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangedDocument {
    /// The document.
    pub document_id: DocumentId,
    /// The server's heads, hex-encoded change hashes.
    pub heads: Vec<String>,
    /// The commit sequence of the document's latest change.
    pub seq: u64,
}

/// One document whole, as the server stores it: a snapshot and the changes
/// after it, which `AutoCommit::load` reads as one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedDocument {
    /// The document.
    pub document_id: DocumentId,
    /// The heads these bytes load at, hex-encoded change hashes.
    pub heads: Vec<String>,
    /// The saved bytes.
    #[serde(with = "strict_bytes")]
    pub data: Vec<u8>,
}

/// A notification pushed to one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The notification's id.
    pub id: String,
    /// The agent it is for.
    pub agent: AgentId,
    /// The conversation it is about.
    pub conversation: ConversationId,
    /// That conversation's document.
    pub document_id: DocumentId,
    /// What happened.
    pub kind: NoticeKind,
    /// What the agent reads, e.g. "Ben assigned you 40 conversations".
    pub text: String,
    /// The batch it stands for (a bulk action or a workflow run), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// How many conversations the notification stands for (bulk, workflows).
    pub count: u32,
    /// When it happened.
    pub at: Millis,
    /// Whether the agent has read it.
    pub read: bool,
}

/// What an agent is doing in a conversation, shared over `ephemeral`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    /// Has the conversation open.
    Viewing,
    /// Is writing a reply or a note.
    Typing,
    /// Closed the conversation.
    Left,
}

/// Presence of one agent in one conversation; never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// The agent.
    pub agent: AgentId,
    /// What they are doing.
    pub state: PresenceState,
}

/// Every message of the sync protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum Message {
    /// Client → server: the first message, naming the protocols it speaks.
    #[serde(rename = "join")]
    Join {
        /// The sending peer's id.
        sender_id: String,
        /// Protocol versions the peer speaks.
        supported_protocol_versions: Vec<String>,
        /// What the peer says about its storage.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_metadata: Option<PeerMetadata>,
        /// Baton's extension version, when the peer speaks it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baton: Option<u32>,
    },
    /// Server → client: the answer to `join`.
    #[serde(rename = "peer")]
    Peer {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The version the server chose.
        selected_protocol_version: String,
        /// What the peer says about its storage.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_metadata: Option<PeerMetadata>,
        /// Baton's extension version, when the server speaks it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baton: Option<u32>,
    },
    /// The peer is going away.
    #[serde(rename = "leave")]
    Leave {
        /// The peer's id.
        sender_id: String,
    },
    /// The peer closes the protocol because of an error.
    #[serde(rename = "error")]
    Error {
        /// The peer's id.
        sender_id: String,
        /// What went wrong.
        message: String,
    },
    /// Client → server: asks for a document the client does not hold.
    #[serde(rename = "request")]
    Request {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The document.
        document_id: DocumentId,
        /// An automerge sync message.
        #[serde(with = "strict_bytes")]
        data: Vec<u8>,
    },
    /// Either way: an automerge sync message for one document.
    #[serde(rename = "sync")]
    Sync {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The document.
        document_id: DocumentId,
        /// An automerge sync message.
        #[serde(with = "strict_bytes")]
        data: Vec<u8>,
    },
    /// Server → client: the document does not exist, or is out of scope.
    #[serde(rename = "doc-unavailable")]
    DocUnavailable {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The document.
        document_id: DocumentId,
    },
    /// Either way: data that is relayed and never stored (presence).
    #[serde(rename = "ephemeral")]
    Ephemeral {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// Counts this session's ephemeral messages, so repeats can be dropped.
        count: u64,
        /// Identifies the sender's session.
        session_id: String,
        /// The document.
        document_id: DocumentId,
        /// An automerge sync message.
        #[serde(with = "strict_bytes")]
        data: Vec<u8>,
    },
    /// Client → server: which storages' heads to hear about (unused by Baton).
    #[serde(rename = "remote-subscription-change")]
    RemoteSubscriptionChange {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// Storage ids to hear about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        add: Option<Vec<String>>,
        /// Storage ids no longer to hear about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remove: Option<Vec<String>>,
    },
    /// Server → client: another storage's heads (unused by Baton).
    #[serde(rename = "remote-heads-changed")]
    RemoteHeadsChanged {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The document.
        document_id: DocumentId,
        /// Heads by storage id.
        new_heads: std::collections::BTreeMap<String, RemoteHeads>,
    },
    /// Client → server: "I have seen every commit up to `since`".
    #[serde(rename = "baton/catch-up")]
    BatonCatchUp {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The last commit sequence seen.
        since: u64,
    },
    /// Server → client: the heads summary answering a catch-up: the in-scope
    /// documents committed after `since`, up to `seq`.
    #[serde(rename = "baton/heads")]
    BatonHeads {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The sequence to ask from next time.
        seq: u64,
        /// The documents, each with its heads.
        documents: Vec<ChangedDocument>,
        /// More documents changed than one answer lists: ask again from `seq`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        more: bool,
    },
    /// Client → server: send these documents whole; the client holds none
    /// of them. Cheaper than a sync exchange per document when a client
    /// starts empty (a first sign-in): the server reads the stored bytes
    /// without loading them, and both sides start in step at their heads.
    #[serde(rename = "baton/fetch")]
    BatonFetch {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// At most [`MAX_FETCH_DOCUMENTS`] documents.
        document_ids: Vec<DocumentId>,
    },
    /// Server → client: documents asked for with `baton/fetch`, whole. From
    /// here on the server syncs them with the client as if a sync exchange
    /// had ended at their heads; one that does not exist is answered with
    /// `doc-unavailable`.
    #[serde(rename = "baton/documents")]
    BatonDocuments {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The documents.
        documents: Vec<SavedDocument>,
    },
    /// Server → client: a notification for the signed-in agent.
    #[serde(rename = "baton/notification")]
    BatonNotification {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The notification.
        notification: Notification,
    },
    /// Client → server: the agent read these notifications (and server → other
    /// tabs of the same agent, so read state stays in step).
    #[serde(rename = "baton/notification-read")]
    BatonNotificationRead {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The notifications' ids.
        ids: Vec<String>,
    },
    /// Server → client: an agent's presence in a conversation.
    #[serde(rename = "baton/presence")]
    BatonPresence {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The document.
        document_id: DocumentId,
        /// What the agent is doing.
        presence: Presence,
    },
    /// Server → client: a request or change was refused.
    #[serde(rename = "baton/error")]
    BatonError {
        /// The sending peer's id.
        sender_id: String,
        /// The receiving peer's id.
        target_id: String,
        /// The document.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document_id: Option<DocumentId>,
        /// A stable code, e.g. `not_assignee`.
        code: String,
        /// What happened, for the agent to read.
        message: String,
    },
}

/// Byte strings only: a text where bytes belong is a malformed message.
mod strict_bytes {
    use serde::Serializer;
    use serde::de::{Deserializer, Error, Visitor};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl Visitor<'_> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(Bytes)
    }
}
